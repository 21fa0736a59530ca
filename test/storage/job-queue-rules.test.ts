import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { newId, systemClock } from '../../src/ids.js';
import type { Job, NewJob } from '../../src/domain/jobs.js';
import type { JobHandler } from '../../src/jobs/job-handler.js';
import { jobRetention, RETENTION_BATCH } from '../../src/jobs/job-retention.js';
import { JobWorker, UNEXPECTED_ERROR } from '../../src/jobs/job-worker.js';
import { retryDelayMs } from '../../src/jobs/retry-delay.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The queue's rules (docs/jobs.md) on a real database — SQLite, or PostgreSQL under `npm run
 * test:pg`: enqueue joins the caller's transaction, claim order, the fencing token, timeouts,
 * retries into the dead letter, retention in batches, and the drain.
 */

let database: TestDatabase;
let store: Store;
let organizationId: string;

const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as unknown as FastifyBaseLogger;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await openStore(database.target);
  organizationId = newId();
  await store.write((writers) =>
    writers.organizations.ensure({
      id: organizationId,
      name: `rules-${organizationId}`,
      now: new Date().toISOString(),
    }),
  );
});
afterAll(async () => {
  await store.close();
  await database.destroy();
});

function newJob(kind: string, extra: Partial<NewJob> = {}): NewJob {
  return {
    id: newId(),
    organization_id: organizationId,
    kind,
    subject_id: newId(),
    max_attempts: 3,
    progress: {},
    now: new Date().toISOString(),
    ...extra,
  };
}

async function enqueue(...jobs: NewJob[]): Promise<string[]> {
  await store.write(async (writers) => {
    for (const job of jobs) await writers.jobs.enqueue(job);
  });
  return jobs.map((job) => job.id);
}

const get = async (id: string) => (await store.jobs.get({ organizationId, id }))!;

function lease(owner: string, ms = 60_000) {
  const now = new Date();
  return { owner, until: new Date(now.getTime() + ms).toISOString(), now: now.toISOString() };
}

function worker(handler: JobHandler) {
  return new JobWorker({
    store,
    clock: systemClock,
    newId,
    handlers: [handler],
    concurrency: 2,
    leaseMs: 1000,
    timeoutMs: 60_000,
    backoff: { kind: 'fixed', baseMs: 10, maxMs: 10 },
    pollMs: 200,
    log: silent,
  });
}

async function ended(id: string): Promise<Job> {
  for (let attempt = 0; attempt < 1500; attempt += 1) {
    const job = await get(id);
    if (job.status !== 'queued' && job.status !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('job did not end');
}

const waitForAbort = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));

describe('the job queue: enqueue', () => {
  it('is part of the caller transaction: a rolled-back write leaves no job, a committed one leaves it queued', async () => {
    const lost = newJob('rules_tx');
    await expect(
      store.write(async (writers) => {
        await writers.jobs.enqueue(lost);
        throw new Error('the caller fails after enqueuing');
      }),
    ).rejects.toThrow('the caller fails after enqueuing');
    expect(await store.jobs.get({ organizationId, id: lost.id })).toBeNull();
    const [kept] = await enqueue(newJob('rules_tx', { priority: 'high', payload: { step: 1 } }));
    expect(await get(kept!)).toMatchObject({
      status: 'queued',
      priority: 2,
      payload: { step: 1 },
      attempts: 0,
      lease_token: 0,
      timeout_ms: null,
      backoff: null,
    });
  });
});

describe('the job queue: claims', () => {
  it('claims by priority, then run_after, then enqueue order; a job scheduled later is not due', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 60_000).toISOString();
    const ids = await enqueue(
      newJob('rules_order', { priority: 'low' }),
      newJob('rules_order'),
      newJob('rules_order', { priority: 'urgent' }),
      newJob('rules_order'),
      newJob('rules_order', { run_after: past }),
      newJob('rules_order', { priority: 'urgent', run_after: future }),
    );
    const claimed: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      const jobs = await store.write((writers) =>
        writers.jobs.claim({ kinds: ['rules_order'], lease: lease('claimer'), limit: 1 }),
      );
      claimed.push(...jobs.map((job) => job.id));
    }
    expect(claimed).toEqual([ids[2], ids[4], ids[1], ids[3], ids[0]]);
    expect(await get(ids[5]!)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('fences a worker whose lease lapsed: after another claim its renew, progress, end and release change nothing', async () => {
    const [id] = await enqueue(newJob('rules_fence'));
    const [first] = await store.write((writers) =>
      writers.jobs.claim({ kinds: ['rules_fence'], lease: lease('stalled', -1), limit: 1 }),
    );
    const [second] = await store.write((writers) =>
      writers.jobs.claim({ kinds: ['rules_fence'], lease: lease('live'), limit: 1 }),
    );
    expect([first!.lease_token, second!.lease_token]).toEqual([1, 2]);
    const stale = { id: id!, token: first!.lease_token };
    const now = new Date().toISOString();
    const results = await store.write(async (writers) => [
      await writers.jobs.renew({ ...stale, until: lease('stalled').until, now }),
      await writers.jobs.progress({ ...stale, progress: { stale: true }, now }),
      await writers.jobs.release({ ...stale, runAfter: now, countAttempt: false, now }),
      await writers.jobs.finish({ ...stale, status: 'succeeded', errorMessage: null, now }),
    ]);
    expect(results).toEqual([false, false, false, false]);
    expect(await get(id!)).toMatchObject({ status: 'running', lease_owner: 'live', lease_token: 2, progress: {} });
    const finished = await store.write((writers) =>
      writers.jobs.finish({ id: id!, token: 2, status: 'succeeded', errorMessage: null, now }),
    );
    expect(finished).toBe(true);
    expect(await get(id!)).toMatchObject({ status: 'succeeded', attempts: 2, lease_owner: null });
  });
});

describe('the job queue: timeouts, retries and the dead letter', () => {
  it('aborts an attempt past its timeout, records it as timeout, retries, and fails the job once attempts are spent', async () => {
    const signals: AbortSignal[] = [];
    const handler: JobHandler = {
      kind: 'rules_timeout',
      run: (_job, context) => {
        signals.push(context.signal);
        return waitForAbort(context.signal);
      },
    };
    const [id] = await enqueue(newJob('rules_timeout', { timeout_ms: 50, max_attempts: 2 }));
    const live = worker(handler);
    live.start();
    try {
      expect(await ended(id!)).toMatchObject({
        status: 'failed',
        attempts: 2,
        error_reason: 'timeout',
        error_message: 'the attempt timed out after 50 ms',
        lease_owner: null,
      });
      expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    } finally {
      await live.stop();
    }
  });

  it('retries unexpected errors after the job’s back-off and keeps the last error in the dead letter', async () => {
    const runs: number[] = [];
    const handler: JobHandler = {
      kind: 'rules_errors',
      run: async (job) => {
        runs.push(Date.now());
        throw new Error(`a bug in attempt ${job.attempts}`);
      },
    };
    const [id] = await enqueue(
      newJob('rules_errors', { max_attempts: 3, backoff: { kind: 'fixed', base_ms: 150, max_ms: 150 } }),
    );
    const live = worker(handler);
    live.start();
    try {
      expect(await ended(id!)).toMatchObject({
        status: 'failed',
        attempts: 3,
        error_reason: 'error',
        error_message: UNEXPECTED_ERROR,
      });
      expect(runs).toHaveLength(3);
      // Each retry waited out the job's fixed back-off.
      expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(150);
      expect(runs[2]! - runs[1]!).toBeGreaterThanOrEqual(150);
    } finally {
      await live.stop();
    }
  });

  it('computes fixed and exponential back-off with equal jitter, capped', () => {
    const defaults = { kind: 'exponential' as const, baseMs: 1000, maxMs: 60_000 };
    const delay = (attempt: number, random: number) =>
      retryDelayMs({ attempt, job: null, defaults, random: () => random });
    expect([delay(1, 0), delay(1, 1), delay(3, 0), delay(3, 1), delay(10, 1), delay(10, 0)]).toEqual([
      500, 1000, 2000, 4000, 60_000, 30_000,
    ]);
    const fixed = retryDelayMs({ attempt: 7, job: { kind: 'fixed', base_ms: 250, max_ms: 0 }, defaults });
    expect(fixed).toBe(250);
  });
});

describe('the job queue: retention and the drain', () => {
  it('deletes finished jobs older than the retention in batches, and keeps younger or unfinished ones', async () => {
    const old = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const count = RETENTION_BATCH * 2 + 7;
    const oldIds = Array.from({ length: count }, () => newJob('rules_retention', { now: old }));
    await enqueue(...oldIds);
    const [young, stillQueued] = await enqueue(newJob('rules_retention'), newJob('rules_retention', { now: old }));
    const finishNow = new Date().toISOString();
    await store.write(async (writers) => {
      const jobs = await writers.jobs.claim({ kinds: ['rules_retention'], lease: lease('r'), limit: count + 2 });
      for (const job of jobs) {
        if (job.id === stillQueued) continue;
        const at = job.id === young ? finishNow : old;
        await writers.jobs.finish({
          id: job.id,
          token: job.lease_token,
          status: 'succeeded',
          errorMessage: null,
          now: at,
        });
      }
    });
    const retention = jobRetention({ store, clock: systemClock, retentionHours: 1, log: silent });
    expect(await retention.sweep()).toBe(count);
    expect(await store.jobs.get({ organizationId, id: oldIds[0]!.id })).toBeNull();
    expect((await get(young!)).status).toBe('succeeded');
    expect((await get(stillQueued!)).status).toBe('running');
  });

  it('drains on stop: a job that finishes within the grace succeeds, one that does not is released uncounted', async () => {
    const handler: JobHandler = {
      kind: 'rules_drain',
      run: async (job, context) => {
        if ((job.payload as { quick?: boolean }).quick) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return { status: 'succeeded', errorMessage: null };
        }
        return waitForAbort(context.signal);
      },
    };
    const [quick, slow] = await enqueue(
      newJob('rules_drain', { payload: { quick: true } }),
      newJob('rules_drain', { payload: {} }),
    );
    const live = worker(handler);
    live.start();
    for (let attempt = 0; attempt < 500; attempt += 1) {
      const jobs = await Promise.all([get(quick!), get(slow!)]);
      if (jobs.every((job) => job.status === 'running')) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await live.stop(400);
    expect(await get(quick!)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await get(slow!)).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null, error_message: null });
  });
});
