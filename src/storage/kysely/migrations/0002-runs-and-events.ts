import { sql, type Kysely } from 'kysely';

/**
 * Agent runs (stored as flow executions, the contract's model) and the per-thread event log.
 *
 * - `chat_threads.last_event_seq` numbers the thread's durable events without gaps;
 *   `active_run_id` with its lease (`active_run_expires_at`) allows one run per thread at a time,
 *   across processes, and lets a crashed owner's run be taken over once the lease lapses.
 * - `thread_events` holds the durable events; text deltas are never stored (see event-log.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('chat_threads')
    .addColumn('last_event_seq', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('chat_threads').addColumn('active_run_id', 'text').execute();
  // Numbers the agent's executions; a counter on the row (not MAX()+1) so concurrent runs in
  // several processes are serialised by the row lock instead of colliding.
  await db.schema
    .alterTable('agents')
    .addColumn('last_execution_number', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('chat_threads').addColumn('active_run_expires_at', 'text').execute();

  await db.schema
    .createTable('thread_events')
    .addColumn('thread_id', 'text', (column) => column.notNull().references('chat_threads.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('data', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('thread_events_pk', ['thread_id', 'seq'])
    .execute();

  await db.schema
    .createTable('flow_executions')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('thread_id', 'text', (column) => column.references('chat_threads.id').onDelete('set null'))
    .addColumn('message_id', 'text')
    .addColumn('flow_id', 'text', (column) => column.notNull())
    .addColumn('execution_number', 'integer', (column) => column.notNull())
    .addColumn('trigger_type', 'text', (column) => column.notNull())
    .addColumn('trigger_data', 'text', (column) => column.notNull())
    .addColumn('variables', 'text', (column) => column.notNull())
    .addColumn('priority', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('started_at', 'text', (column) => column.notNull())
    .addColumn('completed_at', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('timeout_seconds', 'integer', (column) => column.notNull())
    .addColumn('steps', 'text', (column) => column.notNull())
    .addColumn('final_output', 'text')
    .addColumn('error_message', 'text')
    .addColumn('error_details', 'text')
    .addColumn('retry_count', 'integer', (column) => column.notNull())
    .addColumn('max_retries', 'integer', (column) => column.notNull())
    .addColumn('parent_execution_id', 'text')
    .addColumn('tokens_used', 'integer')
    .addColumn('tool_calls_count', 'integer', (column) => column.notNull())
    .addColumn('cost_estimate', sql`double precision`)
    .addColumn('performance_metrics', 'text', (column) => column.notNull())
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('flow_executions_organization_started')
    .on('flow_executions')
    .columns(['organization_id', 'started_at', 'id'])
    .execute();
  await db.schema
    .createIndex('flow_executions_flow_number')
    .on('flow_executions')
    .columns(['organization_id', 'flow_id', 'execution_number'])
    .unique()
    .execute();
  await db.schema.createIndex('flow_executions_agent').on('flow_executions').column('agent_id').execute();
  await db.schema.createIndex('flow_executions_status').on('flow_executions').column('status').execute();
  await db.schema.createIndex('flow_executions_thread').on('flow_executions').column('thread_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('agents').dropColumn('last_execution_number').execute();
  await db.schema.dropTable('flow_executions').execute();
  await db.schema.dropTable('thread_events').execute();
  await db.schema.alterTable('chat_threads').dropColumn('active_run_expires_at').execute();
  await db.schema.alterTable('chat_threads').dropColumn('active_run_id').execute();
  await db.schema.alterTable('chat_threads').dropColumn('last_event_seq').execute();
}
