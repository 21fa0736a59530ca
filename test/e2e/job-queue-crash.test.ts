import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { newId } from '../../src/ids.js';
import { TEST_JOB_KIND } from '../../src/jobs/test-job-kinds.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { openDatabase, type DatabaseHandle } from '../../src/storage/kysely/database.js';
import { startWorker, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, TEST_DIALECT, type TestDatabase } from '../helpers/test-database.js';

/**
 * The queue under kill -9 (real `parley worker` processes with the test job kind,
 * PARLEY_TEST_JOB_KINDS=1; SQLite file, or PostgreSQL under `npm run test:pg`). Each cycle a
 * worker runs some of the jobs — queued, running, retrying and done ones at once — and is killed
 * with SIGKILL; a last worker finishes. Then no job is lost, none completed twice (the test kind
 * records completions in `job_test_runs` in the transaction that ends the job), none is left
 * running. `QUEUE_SOAK_CYCLES` (npm run test:queue-soak: 20) sets the cycles; 3 by default.
 * Two workers on one database never run one job at the same time.
 */

const CYCLES = Number(process.env.QUEUE_SOAK_CYCLES ?? 3);

let database: TestDatabase;
let store: Store;
let inspector: DatabaseHandle;
let organizationId: string;
const workers: ServerProcess[] = [];

beforeEach(async () => {
  database = await createTestDatabase(TEST_DIALECT);
  store = await openStore(database.target);
  inspector = openDatabase(database.target, { postgresPoolSize: 2 });
  organizationId = newId();
  await store.write((writers) =>
    writers.organizations.ensure({
      id: organizationId,
      name: `crash-${organizationId}`,
      now: new Date().toISOString(),
    }),
  );
});
afterEach(async () => {
  for (const worker of workers.splice(0)) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await store.close();
  await inspector.close();
  await database.destroy();
});

function environment(overrides: Record<string, string>): Record<string, string> {
  const target = database.target;
  return {
    DATABASE_URL: target.kind === 'sqlite' ? `sqlite:${target.filename}` : target.connectionString,
    PARLEY_TEST_JOB_KINDS: '1',
    WORKER_CONCURRENCY: '4',
    JOB_LEASE_MS: '1000',
    JOB_BACKOFF: 'fixed',
    JOB_BACKOFF_MS: '50',
    JOB_POLL_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...overrides,
  };
}

async function launch(overrides: Record<string, string> = {}): Promise<ServerProcess> {
  const worker = await startWorker(environment(overrides));
  workers.push(worker);
  return worker;
}

/** Jobs of the test kind: some fail their first attempt, all take a while. */
async function enqueue(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId());
  await store.write(async (writers) => {
    for (const [index, id] of ids.entries()) {
      await writers.jobs.enqueue({
        id,
        organization_id: organizationId,
        kind: TEST_JOB_KIND,
        subject_id: id,
        max_attempts: CYCLES + 5,
        progress: {},
        payload: { sleep_ms: 40 + ((index * 37) % 160), ...(index % 5 === 0 ? { fail_attempts: 1 } : {}) },
        priority: index % 7 === 0 ? 'high' : 'normal',
        now: new Date().toISOString(),
      });
    }
  });
  return ids;
}

interface Counts {
  statuses: Record<string, number>;
  completions: Map<string, number>;
}

async function counts(ids: readonly string[]): Promise<Counts> {
  const db = inspector.reader;
  {
    const jobs = await db
      .selectFrom('jobs')
      .select(['id', 'status'])
      .where('id', 'in', [...ids])
      .execute();
    const statuses: Record<string, number> = {};
    for (const job of jobs) statuses[job.status] = (statuses[job.status] ?? 0) + 1;
    const rows = await db
      .selectFrom('job_test_runs')
      .select(['job_id', sql<number>`count(*)`.as('count')])
      .where('event', '=', 'complete')
      .groupBy('job_id')
      .execute();
    return { statuses, completions: new Map(rows.map((row) => [row.job_id, Number(row.count)])) };
  }
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 3000; attempt += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached');
}

describe('the job queue under kill -9', () => {
  it(
    `loses no job and completes none twice over ${CYCLES} kill -9 cycles`,
    async () => {
      const ids = await enqueue(CYCLES * 24 + 24);
      let completedBefore = 0;
      for (let cycle = 0; cycle < CYCLES; cycle += 1) {
        const worker = await launch();
        // Killed mid-work: more jobs completed than before, and some running.
        await until(
          () => counts(ids),
          (state) => state.completions.size >= completedBefore + 12 && (state.statuses.running ?? 0) > 0,
        );
        worker.child.kill('SIGKILL');
        await worker.exited;
        completedBefore = (await counts(ids)).completions.size;
      }
      const last = await launch();
      const final = await until(
        () => counts(ids),
        (state) => state.statuses.succeeded === ids.length,
      );
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);
      expect(final.statuses).toEqual({ succeeded: ids.length });
      expect([...final.completions.values()].every((count) => count === 1)).toBe(true);
      expect(final.completions.size).toBe(ids.length);
      // Every completion was recorded by the attempt that ended the job (its fencing token).
      const mismatched = await inspector.reader
        .selectFrom('job_test_runs')
        .innerJoin('jobs', 'jobs.id', 'job_test_runs.job_id')
        .select('jobs.id')
        .where('job_test_runs.event', '=', 'complete')
        .whereRef('job_test_runs.lease_token', '!=', 'jobs.lease_token')
        .execute();
      expect(mismatched).toEqual([]);
    },
    CYCLES * 20_000 + 60_000,
  );

  it('two workers on one database never run the same job at once, and every job runs once', async () => {
    // Both are up before the jobs arrive: they compete for every one. Nothing is killed here, so
    // the lease is long: on a loaded machine a 1 s lease can lapse while its renewal waits for
    // the SQLite writer, and the re-claim that follows (counted, fenced) is not what this counts.
    const pair = await Promise.all([launch({ JOB_LEASE_MS: '10000' }), launch({ JOB_LEASE_MS: '10000' })]);
    const ids = await enqueue(120);
    await until(
      () => counts(ids),
      (state) => state.statuses.succeeded === ids.length,
    );
    for (const worker of pair) worker.child.kill('SIGTERM');
    expect(await Promise.all(pair.map((worker) => worker.exited))).toEqual([0, 0]);
    const starts = await inspector.reader
      .selectFrom('job_test_runs')
      .select(['job_id', 'owner'])
      .where('event', '=', 'start')
      .execute();
    const jobs = await inspector.reader.selectFrom('jobs').select(['id', 'attempts']).where('id', 'in', ids).execute();
    // Without a crash every attempt is one claim: a job claimed by both at once would show an
    // extra attempt and an extra start. Jobs at every fifth index fail their first attempt by design.
    const expected = new Map(ids.map((id, index) => [id, index % 5 === 0 ? 2 : 1]));
    expect(new Map(jobs.map((job) => [job.id, Number(job.attempts)]))).toEqual(expected);
    const startsPerJob = new Map<string, number>();
    for (const start of starts) startsPerJob.set(start.job_id, (startsPerJob.get(start.job_id) ?? 0) + 1);
    expect(startsPerJob).toEqual(expected);
    // Both processes took part.
    expect(new Set(starts.map((start) => start.owner)).size).toBe(2);
  }, 120_000);
});
