import { sql, type Kysely } from 'kysely';

/**
 * The durable job queue of issue 13 (docs/jobs.md, ADR 0026), grown from the `jobs` table of
 * migration 0009:
 *
 * - `priority` (0 low … 3 urgent), then `run_after`, then the id (a UUID v7: enqueue order) is
 *   the claim order; `jobs_claim` serves that scan for queued jobs, `jobs_lease` the scan for
 *   running jobs whose lease lapsed, `jobs_finished` retention.
 * - `lease_token` is the fencing token: every claim raises it, and every later write of the
 *   attempt names it, so a worker whose lease lapsed (and whose job another claimed) writes nothing.
 * - `payload` is the kind's input (JSON); `timeout_ms` and `backoff` (JSON) the job's own limits
 *   (null: the queue's settings); `error_reason` why the last attempt ended (`error`, `timeout`,
 *   `interrupted`), beside `error_message`.
 * - `job_test_runs` is written only by the test job kinds (`PARLEY_TEST_JOB_KINDS=1`, for the
 *   crash tests): one row each time such a job starts or completes. Empty otherwise.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('priority', 'integer', (column) => column.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('jobs')
    .addColumn('payload', 'text', (column) => column.notNull().defaultTo('{}'))
    .execute();
  await db.schema.alterTable('jobs').addColumn('timeout_ms', 'integer').execute();
  await db.schema.alterTable('jobs').addColumn('backoff', 'text').execute();
  await db.schema
    .alterTable('jobs')
    .addColumn('lease_token', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('jobs').addColumn('error_reason', 'text').execute();
  await db.schema.dropIndex('jobs_due').execute();
  await sql`create index jobs_claim on jobs (status, priority desc, run_after, id)`.execute(db);
  await db.schema.createIndex('jobs_lease').on('jobs').columns(['status', 'lease_until']).execute();
  await db.schema.createIndex('jobs_finished').on('jobs').columns(['status', 'finished_at']).execute();

  await db.schema
    .createTable('job_test_runs')
    .addColumn('job_id', 'text', (column) => column.notNull())
    .addColumn('event', 'text', (column) => column.notNull())
    .addColumn('owner', 'text', (column) => column.notNull())
    .addColumn('lease_token', 'integer', (column) => column.notNull())
    .addColumn('at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('job_test_runs_job').on('job_test_runs').columns(['job_id', 'event']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('job_test_runs').execute();
  await db.schema.dropIndex('jobs_finished').execute();
  await db.schema.dropIndex('jobs_lease').execute();
  await db.schema.dropIndex('jobs_claim').execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_after']).execute();
  for (const column of ['error_reason', 'lease_token', 'backoff', 'timeout_ms', 'payload', 'priority']) {
    await db.schema.alterTable('jobs').dropColumn(column).execute();
  }
}
