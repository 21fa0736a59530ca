import { sql, type Kysely } from 'kysely';

/**
 * Usage, cost and quotas (issue 13, docs/usage.md, docs/adr/0028-usage-and-quotas.md).
 *
 * - `run_usage`: one row per ended run, written in the transaction that ends it: the tokens the
 *   provider reported, the cost the pricing table gave at that time (null: the model has no
 *   price), and who ran it. A ledger apart from `flow_executions` on purpose: deleting an agent
 *   (whose runs cascade) or a thread must not give an organisation its budget back. It goes with
 *   its organisation only. `ended_at` places a run in a day and a quota period.
 * - `run_usage_organization_ended`: every usage question is "this organisation, this time
 *   window"; the quota check sums tokens and cost over the period, which this index covers.
 * - `organization_quotas`: at most one budget per organisation and period kind; null means no
 *   limit. `bigint`: a month of tokens can pass 2^31.
 *
 * Runs that ended before this migration are not in the ledger (their counts are in
 * `flow_executions` alone).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('run_usage')
    .addColumn('run_id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('agent_id', 'text', (column) => column.notNull())
    .addColumn('thread_id', 'text')
    .addColumn('message_id', 'text')
    .addColumn('model', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('input_tokens', 'bigint', (column) => column.notNull())
    .addColumn('output_tokens', 'bigint', (column) => column.notNull())
    .addColumn('cost', sql`double precision`)
    .addColumn('started_at', 'text', (column) => column.notNull())
    .addColumn('ended_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('run_usage_organization_ended')
    .on('run_usage')
    .columns(['organization_id', 'ended_at', 'input_tokens', 'output_tokens', 'cost'])
    .execute();
  await db.schema
    .createTable('organization_quotas')
    .addColumn('organization_id', 'text', (column) =>
      column.primaryKey().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('period', 'text', (column) => column.notNull())
    .addColumn('max_tokens', 'bigint')
    .addColumn('max_cost', sql`double precision`)
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('organization_quotas').execute();
  await db.schema.dropTable('run_usage').execute();
}
