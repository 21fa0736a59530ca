import type { Kysely } from 'kysely';

/**
 * Which server processes are alive, so that one can fail the runs of another that died
 * (docs/adr/0007-process-heartbeats.md).
 *
 * - `server_processes`: one row per running server. `id` is its boot id, new at every start; a
 *   row once deleted never comes back, so a run whose process has no row is an orphan. `beats`
 *   goes up at every heartbeat (every `heartbeat_ms`): a process whose count has not moved for
 *   three of its own intervals, as another process's clock measures them, is dead. `host`,
 *   `pid`, `started_at` and `heartbeat_at` are for operators; no decision reads a timestamp
 *   written by another process, so the hosts' clocks need not agree.
 * - `flow_executions.process_id`: the boot id of the process that runs (or last ran) the run.
 *   Null for runs stored before this migration: only their thread's lease speaks for them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('server_processes')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('host', 'text', (column) => column.notNull())
    .addColumn('pid', 'integer', (column) => column.notNull())
    .addColumn('heartbeat_ms', 'integer', (column) => column.notNull())
    .addColumn('beats', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('started_at', 'text', (column) => column.notNull())
    .addColumn('heartbeat_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.alterTable('flow_executions').addColumn('process_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('flow_executions').dropColumn('process_id').execute();
  await db.schema.dropTable('server_processes').execute();
}
