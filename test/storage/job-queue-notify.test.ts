import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId, systemClock } from '../../src/ids.js';
import type { JobHandler } from '../../src/jobs/job-handler.js';
import { JobWorker } from '../../src/jobs/job-worker.js';
import type { NotificationListener } from '../../src/storage/kysely/postgres-listener.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, POSTGRES_CONFIGURED, type TestDatabase } from '../helpers/test-database.js';

/**
 * Pickup across processes on PostgreSQL (migration 0025, ADR 0040 amendment): an enqueue's
 * transaction notifies `parley_jobs`, and a worker of another store — another process, as far as
 * the database can tell — claims at once. Its poll is set far beyond the test's timeout (the first
 * poll after start, then none for 30 s), and the test also counts the worker's polls: a job that
 * ends here was picked up by a notification, not by polling.
 */

let database: TestDatabase;
let enqueuer: Store;
let workerStore: Store;
let observer: pg.Client;
let organizationId: string;
const workers: JobWorker[] = [];

const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;

/** Resolves `runs.next(id)` when the handler starts the job `id`. */
function awaitedHandler(kind: string) {
  const waiting = new Map<string, () => void>();
  const started = new Map<string, Promise<void>>();
  const next = (id: string) => {
    if (!started.has(id)) started.set(id, new Promise<void>((resolve) => waiting.set(id, resolve)));
    return started.get(id)!;
  };
  const handler: JobHandler = {
    kind,
    run: async (job) => {
      void next(job.id);
      waiting.get(job.id)!();
      return { status: 'succeeded', errorMessage: null };
    },
  };
  return { handler, next };
}

/** `listening()` resolves at the worker's next LISTEN (its first, or after a reconnection). */
function watchListening(store: Store) {
  const original = store.listenForJobs.bind(store);
  let resolveNext: () => void = () => {};
  let nextListening = new Promise<void>((resolve) => (resolveNext = resolve));
  vi.spyOn(store, 'listenForJobs').mockImplementation((listener: NotificationListener) =>
    original({
      ...listener,
      onListening: () => {
        listener.onListening();
        resolveNext();
        nextListening = new Promise<void>((resolve) => (resolveNext = resolve));
      },
    }),
  );
  return { listening: () => nextListening };
}

function startWorker(store: Store, handler: JobHandler): JobWorker {
  const worker = new JobWorker({
    store,
    clock: systemClock,
    newId,
    handlers: [handler],
    // One slot: the claim that fills it is the last before the job starts (a partly filled worker probes again).
    concurrency: 1,
    leaseMs: 30_000,
    timeoutMs: 60_000,
    backoff: { kind: 'fixed' as const, baseMs: 10, maxMs: 10 },
    // Polls start at a twentieth: 30 s, beyond the test's timeout.
    pollMs: 600_000,
    log: silent,
  });
  workers.push(worker);
  worker.start();
  return worker;
}

function newJob(kind: string) {
  return {
    id: newId(),
    organization_id: organizationId,
    kind,
    subject_id: newId(),
    max_attempts: 3,
    progress: {},
    now: new Date().toISOString(),
  };
}

async function statusOf(id: string): Promise<string | undefined> {
  return (await enqueuer.jobs.get({ organizationId, id }))?.status;
}

if (POSTGRES_CONFIGURED) {
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    enqueuer = await openStore(database.target);
    workerStore = await openStore(database.target);
    const connectionString = database.target.kind === 'postgres' ? database.target.connectionString : '';
    observer = new pg.Client({ connectionString });
    await observer.connect();
    organizationId = newId();
    const now = new Date().toISOString();
    await enqueuer.write((writers) => writers.organizations.ensure({ id: organizationId, name: 'notify', now }));
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await observer.end();
    await enqueuer.close();
    await workerStore.close();
    await database.destroy();
  });

  describe('the job queue on PostgreSQL, woken by notifications', () => {
    it("claims another process's enqueue at once, without a poll", async () => {
      const { handler, next } = awaitedHandler('notify_pickup');
      const { listening } = watchListening(workerStore);
      const anyDue = vi.spyOn(workerStore.jobs, 'anyDue');
      const worker = startWorker(workerStore, handler);
      await listening();
      const job = newJob('notify_pickup');
      await enqueuer.write((writers) => writers.jobs.enqueue(job));
      // Probes begun before the commit (the start's, the one after LISTEN) cannot see the job; a
      // probe begun after it could. None may begin before the job starts: the notification woke
      // the worker, which claims without probing.
      const pollsAtCommit = anyDue.mock.calls.length;
      await next(job.id);
      // Polls until the job started (a free slot polls again after its end: not counted).
      const pollsUntilStart = anyDue.mock.calls.length;
      await worker.stop();
      expect(await statusOf(job.id)).toBe('succeeded');
      expect(pollsUntilStart).toBe(pollsAtCommit);
    });

    it('listens again after the server ended its connection, and picks up at once again', async () => {
      const { handler, next } = awaitedHandler('notify_reconnect');
      const { listening } = watchListening(workerStore);
      const worker = startWorker(workerStore, handler);
      await listening();
      const reconnected = listening();
      const { rows } = await observer.query<{ ended: boolean }>(
        `select pg_terminate_backend(pid) as ended from pg_stat_activity
          where datname = current_database() and query = 'listen "parley_jobs"'`,
      );
      expect(rows).toEqual([{ ended: true }]);
      await reconnected;
      const anyDue = vi.spyOn(workerStore.jobs, 'anyDue');
      const job = newJob('notify_reconnect');
      await enqueuer.write((writers) => writers.jobs.enqueue(job));
      // As above: only probes begun after the commit could have found the job.
      const pollsAtCommit = anyDue.mock.calls.length;
      await next(job.id);
      const pollsUntilStart = anyDue.mock.calls.length;
      await worker.stop();
      expect(await statusOf(job.id)).toBe('succeeded');
      expect(pollsUntilStart).toBe(pollsAtCommit);
    });

    it('notifies once per committed transaction, and not at all for a rolled-back enqueue', async () => {
      const heard: string[] = [];
      let marked: () => void = () => {};
      observer.on('notification', (message) => {
        heard.push(message.channel);
        if (message.channel === 'parley_test_marker') marked();
      });
      await observer.query('listen parley_jobs');
      await observer.query('listen parley_test_marker');
      const untilMarker = async () => {
        const seen = new Promise<void>((resolve) => (marked = resolve));
        await observer.query(`select pg_notify('parley_test_marker', '')`);
        await seen;
      };
      const refused = newJob('notify_rollback');
      await expect(
        enqueuer.write(async (writers) => {
          await writers.jobs.enqueue(refused);
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      await untilMarker();
      // Three enqueues of one transaction, and two units of one group commit: one notification each.
      await enqueuer.write(async (writers) => {
        for (let count = 0; count < 3; count += 1) await writers.jobs.enqueue(newJob('notify_rollback'));
      });
      await untilMarker();
      await Promise.all([0, 1].map(() => enqueuer.write((writers) => writers.jobs.enqueue(newJob('notify_rollback')))));
      await untilMarker();
      expect(heard).toEqual([
        'parley_test_marker',
        'parley_jobs',
        'parley_test_marker',
        'parley_jobs',
        'parley_test_marker',
      ]);
      expect(await statusOf(refused.id)).toBeUndefined();
    });
  });
}
