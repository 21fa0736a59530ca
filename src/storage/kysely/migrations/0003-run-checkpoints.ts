import type { Kysely } from 'kysely';

/**
 * `flow_executions.checkpoint`: where a run stands at its last step boundary (JSON, see
 * `RunCheckpoint` in domain/runs.ts), so a run stopped there can go on later from stored state.
 * Null while a run has no boundary to resume from, and after it ends. Not part of the API.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('flow_executions').addColumn('checkpoint', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('flow_executions').dropColumn('checkpoint').execute();
}
