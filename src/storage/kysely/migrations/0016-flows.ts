import { type Kysely } from 'kysely';

/**
 * Flows and what their executions need (docs/flows.md, docs/adr/0029-flows.md).
 *
 * - `flows`: an agent's reusable task: instructions with `{{variables}}`, the variables' types,
 *   the tools it may use, an optional output JSON Schema and execution defaults. JSON columns as
 *   text, like every other table. `last_execution_number` numbers the flow's executions (a
 *   counter on the row, as agents have for chat runs, so concurrent executes never collide).
 * - `flow_schedules`: one row per schedule of a flow (cron, IANA timezone, variables) with
 *   `next_run_at`, the next slot the scheduler (a later task) will fire.
 * - `flow_schedule_slots`: one row per fired slot. The primary key (schedule, slot time) is the
 *   once-only guarantee across processes: a scheduler inserts the slot and enqueues the
 *   execution in one transaction; a second process's insert of the same slot conflicts.
 * - `flow_execution_changes`: the audit of PATCH /flows/executions/{id}: who (API key), when,
 *   which field, old and new value (JSON text).
 * - `flow_executions.job_id`: the queue job that runs a flow's execution. Such an execution is
 *   recovered by the queue's lease, never by the chat runs' orphan sweep (which looks at threads
 *   and process rows a job-run execution does not have).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('flows')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('instructions', 'text', (column) => column.notNull())
    .addColumn('variables', 'text', (column) => column.notNull())
    .addColumn('tools', 'text', (column) => column.notNull())
    .addColumn('output_schema', 'text')
    .addColumn('timeout_seconds', 'integer')
    .addColumn('priority', 'text')
    .addColumn('retry_config', 'text')
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('last_execution_number', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('flows_agent_created')
    .on('flows')
    .columns(['organization_id', 'agent_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('flow_schedules')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('flow_id', 'text', (column) => column.notNull().references('flows.id').onDelete('cascade'))
    .addColumn('position', 'integer', (column) => column.notNull())
    .addColumn('cron', 'text', (column) => column.notNull())
    .addColumn('timezone', 'text', (column) => column.notNull())
    .addColumn('variables', 'text', (column) => column.notNull())
    .addColumn('next_run_at', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('flow_schedules_flow').on('flow_schedules').columns(['flow_id', 'position']).execute();
  await db.schema.createIndex('flow_schedules_due').on('flow_schedules').columns(['next_run_at', 'id']).execute();

  await db.schema
    .createTable('flow_schedule_slots')
    .addColumn('schedule_id', 'text', (column) => column.notNull().references('flow_schedules.id').onDelete('cascade'))
    .addColumn('slot_at', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('execution_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('flow_schedule_slots_pk', ['schedule_id', 'slot_at'])
    .execute();

  await db.schema
    .createTable('flow_execution_changes')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('execution_id', 'text', (column) =>
      column.notNull().references('flow_executions.id').onDelete('cascade'),
    )
    .addColumn('key_id', 'text')
    .addColumn('field', 'text', (column) => column.notNull())
    .addColumn('old_value', 'text')
    .addColumn('new_value', 'text')
    .addColumn('changed_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('flow_execution_changes_execution')
    .on('flow_execution_changes')
    .columns(['organization_id', 'execution_id', 'changed_at', 'id'])
    .execute();

  await db.schema.alterTable('flow_executions').addColumn('job_id', 'text').execute();
  // Lists are ordered by (created_at, id) for keyset cursors (keyset-page.ts).
  await db.schema
    .createIndex('flow_executions_organization_created')
    .on('flow_executions')
    .columns(['organization_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('flow_executions_flow').on('flow_executions').columns(['flow_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('flow_executions_flow').execute();
  await db.schema.dropIndex('flow_executions_organization_created').execute();
  await db.schema.alterTable('flow_executions').dropColumn('job_id').execute();
  await db.schema.dropTable('flow_execution_changes').execute();
  await db.schema.dropTable('flow_schedule_slots').execute();
  await db.schema.dropTable('flow_schedules').execute();
  await db.schema.dropTable('flows').execute();
}
