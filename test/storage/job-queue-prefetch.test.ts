import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { newId, systemClock } from '../../src/ids.js';
import type { Job } from '../../src/domain/jobs.js';
import type { JobHandler } from '../../src/jobs/job-handler.js';
import { JobEnds } from '../../src/jobs/job-ends.js';
import { JobWorker } from '../../src/jobs/job-worker.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The queue's batch paths (ADR 0038) on a real database — SQLite, or PostgreSQL under
 * `npm run test:pg`: jobs claimed ahead of a free slot (the prefetch) are bounded, given back
 * uncounted on stop and when they waited too long; claims made in a batch of ends are delivered
 * only if that batch committed.
 */

let database: TestDatabase;
let store: Store;
let organizationId: string;

const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await openStore(database.target);
  organizationId = newId();
  const now = new Date().toISOString();
  await store.write((writers) =>
    writers.organizations.ensure({ id: organizationId, name: `pf-${organizationId}`, now }),
  );
});
afterAll(async () => {
  await store.close();
  await database.destroy();
});

async function enqueue(kind: string, count: number): Promise<string[]> {
  const now = new Date().toISOString();
  const jobs = Array.from({ length: count }, (_, index) => ({
    id: newId(),
    organization_id: organizationId,
    kind,
    subject_id: newId(),
    max_attempts: 3,
    progress: {},
    // Distinct schedules: the claim order is the enqueue order.
    run_after: new Date(Date.parse(now) - 60_000 + index).toISOString(),
    now,
  }));
  await store.write((writers) => writers.jobs.enqueueMany(jobs));
  return jobs.map((job) => job.id);
}

const get = async (id: string) => (await store.jobs.get({ organizationId, id }))!;
const statuses = async (ids: readonly string[]) => Promise.all(ids.map(async (id) => (await get(id)).status));

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 1500; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not reached');
}

function worker(handler: JobHandler, options: { concurrency: number; prefetch: number; leaseMs?: number }) {
  return new JobWorker({
    store,
    clock: systemClock,
    newId,
    handlers: [handler],
    concurrency: options.concurrency,
    prefetch: options.prefetch,
    leaseMs: options.leaseMs ?? 60_000,
    timeoutMs: 60_000,
    backoff: { kind: 'fixed', baseMs: 10, maxMs: 10 },
    pollMs: 100,
    log: silent,
  });
}

describe('the job queue: prefetch and batches', () => {
  it('claims at most concurrency + prefetch ahead, runs one at a time, and gives the ready ones back uncounted on stop', async () => {
    const started: string[] = [];
    const handler: JobHandler = {
      kind: 'pf_stop',
      run: (job, context) => {
        started.push(job.id);
        return new Promise((_resolve, reject) =>
          context.signal.addEventListener('abort', () => reject(context.signal.reason as Error)),
        );
      },
    };
    const ids = await enqueue('pf_stop', 6);
    const live = worker(handler, { concurrency: 1, prefetch: 2 });
    live.start();
    await until(async () => (await statuses(ids)).filter((status) => status === 'running').length === 3);
    expect(await statuses(ids)).toEqual(['running', 'running', 'running', 'queued', 'queued', 'queued']);
    expect(started).toEqual([ids[0]]);
    await live.stop();
    const jobs = await Promise.all(ids.map(get));
    expect(jobs.map((job) => [job.status, job.attempts, job.lease_owner])).toEqual(ids.map(() => ['queued', 0, null]));
  });

  it('gives back a ready job that waited a third of its lease, and runs it later: every job once, one attempt', async () => {
    const runs: string[] = [];
    const handler: JobHandler = {
      kind: 'pf_stale',
      run: async (job) => {
        runs.push(job.id);
        // The first job outlasts a third of the 1 s lease: the two claimed with it go stale.
        if (runs.length === 1) await new Promise((resolve) => setTimeout(resolve, 500));
        return { status: 'succeeded', errorMessage: null };
      },
    };
    const ids = await enqueue('pf_stale', 3);
    const live = worker(handler, { concurrency: 1, prefetch: 2, leaseMs: 1000 });
    live.start();
    try {
      await until(async () => (await statuses(ids)).every((status) => status === 'succeeded'));
    } finally {
      await live.stop();
    }
    const jobs = await Promise.all(ids.map(get));
    expect(jobs.map((job) => [job.status, job.attempts])).toEqual(ids.map(() => ['succeeded', 1]));
    expect([...runs].sort()).toEqual([...ids].sort());
    // Given back (lease_token raised by the claim), claimed again (raised again).
    expect(jobs.map((job) => job.lease_token)).toEqual([1, 2, 2]);
  });

  it('delivers a batch’s claims only if its transaction committed; a failing end takes none with it', async () => {
    const ended = await enqueue('pf_batch_end', 3);
    const successors = await enqueue('pf_batch_next', 3);
    const lease = {
      owner: 'pf-test',
      until: new Date(Date.now() + 60_000).toISOString(),
      now: new Date().toISOString(),
    };
    const claimed = await store.write((writers) => writers.jobs.claim({ kinds: ['pf_batch_end'], lease, limit: 3 }));
    const delivered: Job[][] = [];
    let reserved = 0;
    const ends = new JobEnds({
      store,
      now: () => new Date().toISOString(),
      refill: {
        reserve: () => ((reserved += 1), 1),
        claim: (writers, count) =>
          writers.jobs.claim({
            kinds: ['pf_batch_next'],
            lease: { ...lease, now: new Date().toISOString() },
            limit: count,
          }),
        settle: (count, jobs) => {
          reserved -= count;
          delivered.push(jobs);
        },
      },
    });
    const end = (job: Job) =>
      ({ id: job.id, token: job.lease_token, status: 'succeeded', errorMessage: null }) as const;
    const settled = await Promise.allSettled([
      ends.end(end(claimed[0]!), undefined),
      ends.end(end(claimed[1]!), async () => {
        throw new Error('commit refused');
      }),
      ends.end(end(claimed[2]!), undefined),
    ]);
    expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await statuses(ended)).toEqual(['succeeded', 'running', 'succeeded']);
    // The three ends together (a batch takes the ends waiting when its transaction begins),
    // rolled back with their claim; then each alone, the failing one's claim rolled back with it.
    expect(delivered.map((jobs) => jobs.length)).toEqual([0, 1, 0, 1]);
    expect(reserved).toBe(0);
    const running = delivered.flat().map((job) => job.id);
    expect(running).toEqual(successors.slice(0, 2));
    expect(await statuses(successors)).toEqual(['running', 'running', 'queued']);
  });
});
