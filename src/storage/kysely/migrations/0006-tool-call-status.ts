import { sql, type Kysely } from 'kysely';

/**
 * Tool calls get a status and what approval needs (docs/adr/0015-tool-approval.md):
 *
 * - `status`: `running`, `completed`, `failed`, `pending_approval` or `rejected`. Rows stored
 *   before this migration get `completed`, `failed` (an error) or `running` (no end).
 * - `run_id` and `tool_call_id`: the run that made the call and the model's id for it, which the
 *   approve and reject routes name. Null for imported history and rows stored before.
 * - `approval`: JSON `ToolCallApproval` (when it was asked, until when, the decision and its
 *   reason, the arguments the model asked with); null for calls that needed none.
 * - `approval_expires_at`: the deadline of a pending request, indexed for the expiry sweep.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('tool_calls')
    .addColumn('status', 'text', (column) => column.notNull().defaultTo('completed'))
    .execute();
  await db.schema.alterTable('tool_calls').addColumn('run_id', 'text').execute();
  await db.schema.alterTable('tool_calls').addColumn('tool_call_id', 'text').execute();
  await db.schema.alterTable('tool_calls').addColumn('approval', 'text').execute();
  await db.schema.alterTable('tool_calls').addColumn('approval_expires_at', 'text').execute();
  await sql`update tool_calls set status = 'failed' where error is not null`.execute(db);
  await sql`update tool_calls set status = 'running' where error is null and end_time is null`.execute(db);
  await db.schema
    .createIndex('tool_calls_pending_approval')
    .on('tool_calls')
    .columns(['status', 'approval_expires_at'])
    .execute();
  await db.schema.createIndex('tool_calls_run').on('tool_calls').columns(['run_id', 'tool_call_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('tool_calls_run').execute();
  await db.schema.dropIndex('tool_calls_pending_approval').execute();
  for (const column of ['approval_expires_at', 'approval', 'tool_call_id', 'run_id', 'status']) {
    await db.schema.alterTable('tool_calls').dropColumn(column).execute();
  }
}
