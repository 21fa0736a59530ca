import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { newId, systemClock } from '../../src/ids.js';
import type { Job } from '../../src/domain/jobs.js';
import type { JobHandler, JobOutcome } from '../../src/jobs/job-handler.js';
import { JobEnds } from '../../src/jobs/job-ends.js';
import { JobWorker } from '../../src/jobs/job-worker.js';
import { openDatabase } from '../../src/storage/kysely/database.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The lease-based job queue (src/jobs/, ADR 0022) on a real database — SQLite, or PostgreSQL under
 * `npm run test:pg` — with two workers on two connections (two processes, as far as the database
 * can tell): every job runs once, a lapsed lease is claimed again and counted, a job past its
 * attempts is given up through its handler, and a stopped worker gives its job back.
 */

let database: TestDatabase;
let stores: Store[];
let organizationId: string;

const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;

beforeAll(async () => {
  database = await createTestDatabase();
  stores = [await openStore(database.target), await openStore(database.target)];
  organizationId = newId();
  const now = new Date().toISOString();
  await stores[0]!.write((writers) =>
    writers.organizations.ensure({ id: organizationId, name: `queue-${organizationId}`, now }),
  );
});
afterAll(async () => {
  for (const store of stores) await store.close();
  await database.destroy();
});

/** A handler of its own kind that records what it ran and finishes as `behaviour` says. */
function recordingHandler(
  kind: string,
  behaviour: (job: Job, signal: AbortSignal) => Promise<JobOutcome> = async () => ({
    status: 'succeeded',
    errorMessage: null,
  }),
) {
  const runs: string[] = [];
  const gaveUp: string[] = [];
  const handler: JobHandler = {
    kind,
    run: async (job, context) => {
      runs.push(job.id);
      return behaviour(job, context.signal);
    },
    onGiveUp: async ({ job }) => {
      gaveUp.push(job.id);
      return `gave up after ${job.attempts}`;
    },
  };
  return { handler, runs, gaveUp };
}

function worker(store: Store, handler: JobHandler, leaseMs = 1000) {
  return new JobWorker({
    store,
    clock: systemClock,
    newId,
    handlers: [handler],
    concurrency: 4,
    leaseMs,
    timeoutMs: 60_000,
    backoff: { kind: 'exponential' as const, baseMs: 10, maxMs: 100 },
    pollMs: 200,
    log: silent,
  });
}

async function enqueue(kind: string, count: number, maxAttempts = 3): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId());
  const now = new Date().toISOString();
  const jobs = ids.map((id) => ({
    id,
    organization_id: organizationId,
    kind,
    subject_id: newId(),
    max_attempts: maxAttempts,
    progress: {},
    now,
  }));
  // One job through `enqueue`, more through `enqueueMany` (statements of 500 rows).
  await stores[0]!.write(async (writers) =>
    count === 1 ? [await writers.jobs.enqueue(jobs[0]!)] : writers.jobs.enqueueMany(jobs),
  );
  return ids;
}

async function jobsOf(ids: readonly string[]): Promise<Job[]> {
  return Promise.all(ids.map(async (id) => (await stores[0]!.jobs.get({ organizationId, id }))!));
}

/** Reads until every job is over (bounded by count): one count a poll, then the jobs. */
async function allEnded(ids: readonly string[]): Promise<Job[]> {
  const inspector = openDatabase(database.target, { postgresPoolSize: 1 });
  try {
    for (let attempt = 0; attempt < 1500; attempt += 1) {
      const row = await inspector.reader
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll().as('open'))
        .where('id', 'in', [...ids])
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirstOrThrow();
      if (Number(row.open) === 0) return jobsOf(ids);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await inspector.close();
  }
  throw new Error('jobs did not end');
}

describe('the job queue', () => {
  it('two workers on two connections run every job exactly once', async () => {
    const { handler, runs } = recordingHandler('queue_once', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { status: 'succeeded', errorMessage: null };
    });
    const ids = await enqueue('queue_once', 40);
    const workers = stores.map((store) => worker(store, handler));
    workers.forEach((each) => each.start());
    try {
      const jobs = await allEnded(ids);
      expect(jobs.map((job) => [job.status, job.attempts])).toEqual(ids.map(() => ['succeeded', 1]));
      expect([...runs].sort()).toEqual([...ids].sort());
    } finally {
      await Promise.all(workers.map((each) => each.stop()));
    }
  });

  it('claims a job whose lease lapsed (its worker died) again, counting the attempt', async () => {
    const [id] = await enqueue('queue_lapsed', 1);
    // A worker that died: it claimed the job, and its lease has run out.
    const claimed = await stores[1]!.write((writers) =>
      writers.jobs.claim({
        limit: 1,
        kinds: ['queue_lapsed'],
        lease: { owner: 'dead-worker', until: new Date(Date.now() - 1).toISOString(), now: new Date().toISOString() },
      }),
    );
    expect(claimed).toHaveLength(1);
    expect(claimed[0]).toMatchObject({ id, status: 'running', attempts: 1, lease_owner: 'dead-worker' });
    const { handler, runs } = recordingHandler('queue_lapsed');
    const live = worker(stores[0]!, handler);
    live.start();
    try {
      const [job] = await allEnded([id!]);
      expect(job).toMatchObject({ status: 'succeeded', attempts: 2, lease_owner: null });
      expect(runs).toEqual([id]);
    } finally {
      await live.stop();
    }
  });

  it('gives up a job past its attempts through its handler, which names the reason', async () => {
    const [id] = await enqueue('queue_exhausted', 1, 1);
    await stores[1]!.write((writers) =>
      writers.jobs.claim({
        limit: 1,
        kinds: ['queue_exhausted'],
        lease: { owner: 'dead-worker', until: new Date(Date.now() - 1).toISOString(), now: new Date().toISOString() },
      }),
    );
    const { handler, runs, gaveUp } = recordingHandler('queue_exhausted');
    const live = worker(stores[0]!, handler);
    live.start();
    try {
      const [job] = await allEnded([id!]);
      expect(job).toMatchObject({ status: 'failed', attempts: 2, error_message: 'gave up after 1' });
      expect(runs).toEqual([]);
      expect(gaveUp).toEqual([id]);
    } finally {
      await live.stop();
    }
  });

  it('retries an unexpected error with back-off; a stopped worker gives its running job back uncounted', async () => {
    let calls = 0;
    const { handler } = recordingHandler('queue_retry', async (_job, signal) => {
      calls += 1;
      if (calls === 1) throw new Error('a bug');
      // The second attempt runs until the worker stops.
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw signal.reason;
    });
    const [id] = await enqueue('queue_retry', 1);
    const live = worker(stores[0]!, handler);
    live.start();
    for (let attempt = 0; attempt < 1500 && calls < 2; attempt += 1)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(2);
    await live.stop();
    const [job] = await jobsOf([id!]);
    // Attempt 1 failed (counted, with the generic reason); attempt 2 was given back at the stop.
    expect(job).toMatchObject({
      status: 'queued',
      attempts: 1,
      lease_owner: null,
      error_message: 'an internal error stopped the attempt',
    });
  });

  it('ends attempts together in one commit; a commit that throws refuses only its own end', async () => {
    const ids = await enqueue('queue_ends', 6);
    const lease = {
      owner: 'ends-test',
      until: new Date(Date.now() + 60_000).toISOString(),
      now: new Date().toISOString(),
    };
    const claimed = await stores[0]!.write((writers) => writers.jobs.claim({ kinds: ['queue_ends'], lease, limit: 6 }));
    expect(claimed.map((job) => job.id).sort()).toEqual([...ids].sort());
    const [stale, failing, ...rest] = claimed;
    const ends = new JobEnds({ store: stores[0]!, now: () => new Date().toISOString() });
    const record = (job: Job) => async (writers: Parameters<NonNullable<JobOutcome['commit']>>[0]) =>
      writers.jobTestRuns.record({
        jobId: job.id,
        event: 'complete',
        owner: 'ends-test',
        leaseToken: job.lease_token,
        now: lease.now,
      });
    const end = (job: Job, token = job.lease_token) =>
      ({ id: job.id, token, status: 'succeeded', errorMessage: null }) as const;
    const settled = await Promise.allSettled([
      // An attempt whose token is not the job's (its lease was taken over): nothing of it is written.
      ends.end(end(stale!, stale!.lease_token - 1), record(stale!)),
      ends.end(end(failing!), async () => {
        throw new Error('commit refused');
      }),
      ...rest.map((job) => ends.end(end(job), record(job))),
    ]);
    expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', ...rest.map(() => 'fulfilled')]);
    const jobs = new Map((await jobsOf(ids)).map((job) => [job.id, job.status]));
    expect(jobs.get(stale!.id)).toBe('running');
    expect(jobs.get(failing!.id)).toBe('running');
    for (const job of rest) expect(jobs.get(job.id)).toBe('succeeded');
    const inspector = openDatabase(database.target, { postgresPoolSize: 1 });
    try {
      const completions = await inspector.reader
        .selectFrom('job_test_runs')
        .select('job_id')
        .where('job_id', 'in', ids)
        .execute();
      // Each committed once, though the first batch (with the failing commit) was rolled back.
      expect(completions.map((row) => row.job_id).sort()).toEqual(rest.map((job) => job.id).sort());
    } finally {
      await inspector.close();
    }
  });

  it('never runs more jobs at once than its concurrency, while ends claim their successors', async () => {
    let inFlight = 0;
    let most = 0;
    const { handler, runs } = recordingHandler('queue_slots', async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 3)));
      inFlight -= 1;
      return { status: 'succeeded', errorMessage: null };
    });
    const ids = await enqueue('queue_slots', 520); // two INSERT statements
    const one = worker(stores[0]!, handler);
    one.start();
    try {
      const jobs = await allEnded(ids);
      expect(jobs.map((job) => [job.status, job.attempts])).toEqual(ids.map(() => ['succeeded', 1]));
      expect(runs).toHaveLength(520);
      expect(most).toBeLessThanOrEqual(4);
      expect(most).toBeGreaterThan(1);
    } finally {
      await one.stop();
    }
  });
});
