import { sql, type Kysely } from 'kysely';

/**
 * The queue's three scans, each over the only rows it can find (ADR 0040): `jobs_claim` holds
 * queued jobs only, `jobs_lease` running ones (their `lease_until`), `jobs_finished` the ended
 * ones (their `finished_at`, which only an end sets). Before, all three were keyed by `status`
 * and held every job, so each transition (enqueue, claim, end) rewrote an entry in each of them;
 * now a claim leaves `jobs_claim` and enters `jobs_lease`, an end leaves `jobs_lease` and enters
 * `jobs_finished`. The queries name the statuses as literals (`status = 'queued'`): SQLite uses a
 * partial index only when the query's terms imply the index's condition, which a bound parameter
 * never does, and PostgreSQL's generic plans (named statements) likewise.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_claim').execute();
  await db.schema.dropIndex('jobs_lease').execute();
  await db.schema.dropIndex('jobs_finished').execute();
  await sql`create index jobs_claim on jobs (priority desc, run_after, id) where status = 'queued'`.execute(db);
  await sql`create index jobs_lease on jobs (lease_until) where status = 'running'`.execute(db);
  await sql`create index jobs_finished on jobs (finished_at) where finished_at is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_finished').execute();
  await db.schema.dropIndex('jobs_lease').execute();
  await db.schema.dropIndex('jobs_claim').execute();
  await sql`create index jobs_claim on jobs (status, priority desc, run_after, id)`.execute(db);
  await db.schema.createIndex('jobs_lease').on('jobs').columns(['status', 'lease_until']).execute();
  await db.schema.createIndex('jobs_finished').on('jobs').columns(['status', 'finished_at']).execute();
}
