import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { newId } from '../../src/ids.js';
import { TEST_JOB_KIND } from '../../src/jobs/test-job-kinds.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { startWorker, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, POSTGRES_CONFIGURED, type TestDatabase } from '../helpers/test-database.js';

/**
 * A real `parley worker` process on PostgreSQL picks up jobs that this process (another process
 * to it, with no way to wake it) enqueues, by LISTEN/NOTIFY (migration 0025). Its polls are
 * `JOB_POLL_MS / 20` = 3 s apart after each job and longer after that, so the JOBS jobs below,
 * each enqueued once the one before has ended, would take at least JOBS × 3 s — past the test's
 * timeout — if the worker found them by polling; each ends here in a few round trips.
 */

const JOBS = 15;

let database: TestDatabase;
let store: Store;
let observer: pg.Client;
let worker: ServerProcess | undefined;
let organizationId: string;

/** Until the server shows a session listening on the channel: the worker's, once it has started listening. */
async function listening(): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const { rows } = await observer.query<{ count: number }>(
      `select count(*)::int as count from pg_stat_activity
        where datname = current_database() and query = 'listen "parley_jobs"'`,
    );
    if (rows[0]!.count === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the worker never listened');
}

/** Until the job has ended: a read every 10 ms (another process ends it, with no event to await). */
async function ended(id: string): Promise<string> {
  for (;;) {
    const job = await store.jobs.get({ organizationId, id });
    if (job && job.status !== 'queued' && job.status !== 'running') return job.status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

if (POSTGRES_CONFIGURED) {
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    store = await openStore(database.target);
    const connectionString = database.target.kind === 'postgres' ? database.target.connectionString : '';
    observer = new pg.Client({ connectionString });
    await observer.connect();
    organizationId = newId();
    const now = new Date().toISOString();
    await store.write((writers) => writers.organizations.ensure({ id: organizationId, name: 'notify-e2e', now }));
    worker = await startWorker({
      DATABASE_URL: connectionString,
      PARLEY_TEST_JOB_KINDS: '1',
      WORKER_CONCURRENCY: '1',
      JOB_POLL_MS: '60000',
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
  });

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await observer.end();
    await store.close();
    await database.destroy();
  });

  describe('the job queue across processes on PostgreSQL', () => {
    it("a worker process runs another process's enqueues as they commit, not at its polls", async () => {
      await listening();
      const statuses: string[] = [];
      for (let index = 0; index < JOBS; index += 1) {
        const id = newId();
        await store.write((writers) =>
          writers.jobs.enqueue({
            id,
            organization_id: organizationId,
            kind: TEST_JOB_KIND,
            subject_id: id,
            max_attempts: 3,
            progress: {},
            payload: {},
            now: new Date().toISOString(),
          }),
        );
        statuses.push(await ended(id));
      }
      expect(statuses).toEqual(Array.from({ length: JOBS }, () => 'succeeded'));
    });
  });
}
