import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Clock, IdGenerator } from './ids.js';
import type { JobHandler } from './jobs/job-handler.js';
import { jobRetention } from './jobs/job-retention.js';
import { JobWorker } from './jobs/job-worker.js';
import { testJobHandler } from './jobs/test-job-kinds.js';
import type { Store } from './storage/store.js';

/**
 * The process's side of the durable job queue (docs/jobs.md): one JobWorker running
 * `WORKER_CONCURRENCY` jobs at once (none when 0: the process only enqueues), and retention.
 * Features register their handlers before `start`; they enqueue with `writers.jobs.enqueue` in
 * their own transaction and call `wake()` after it commits.
 */
export interface Jobs {
  /** Registers the handler of a job kind; before `start` only. */
  register(handler: JobHandler): void;
  /** After an enqueue commits: this process's idle worker claims at once. */
  wake(): void;
  /** Stops a running job of this process (its subject was deleted). */
  cancel(jobId: string): void;
  /**
   * A periodic part of the processes that run jobs (the flow scheduler): started with the
   * worker when `WORKER_CONCURRENCY` > 0 (an API-only process runs none), stopped with it.
   */
  beside(part: { start(): void; stop(): Promise<void> }): void;
  start(): void;
  /** Drains: no new claims; running jobs get `graceMs`, then are released to the queue. */
  stop(graceMs?: number): Promise<void>;
}

export function createJobs(input: {
  config: Config;
  store: Store;
  clock: Clock;
  generateId: IdGenerator;
  log: FastifyBaseLogger;
}): Jobs {
  const { config, store, clock, generateId, log } = input;
  const settings = config.jobs;
  const handlers: JobHandler[] = settings.testKinds ? [testJobHandler({ store, clock })] : [];
  const parts: { start(): void; stop(): Promise<void> }[] = [];
  let worker: JobWorker | null = null;
  const retention = jobRetention({ store, clock, retentionHours: settings.retentionHours, log });
  return {
    register: (handler) => {
      if (worker) throw new Error(`job kind ${handler.kind} registered after the worker started`);
      handlers.push(handler);
    },
    wake: () => worker?.wake(),
    cancel: (jobId) => worker?.cancel(jobId),
    beside: (part) => void parts.push(part),
    start: () => {
      worker ??= new JobWorker({
        store,
        clock,
        newId: generateId,
        handlers,
        concurrency: settings.workerConcurrency,
        prefetch: settings.workerPrefetch,
        leaseMs: settings.leaseMs,
        timeoutMs: settings.timeoutMs,
        backoff: settings.backoff,
        pollMs: settings.pollMs,
        log,
      });
      worker.start();
      retention.start();
      if (settings.workerConcurrency > 0) for (const part of parts) part.start();
    },
    stop: async (graceMs = 0) => {
      await Promise.all([worker?.stop(graceMs), retention.stop(), ...parts.map((part) => part.stop())]);
    },
  };
}

/**
 * Starts the worker when the app is ready — after the hooks registered before, so after
 * knowledge's sweep of unowned bytes — and on close stops it before `after` (knowledge's
 * extraction threads, which running ingestion jobs use).
 */
export function attachJobs(app: FastifyInstance, jobs: Jobs, after: () => Promise<void>): void {
  app.addHook('onReady', async () => jobs.start());
  app.addHook('onClose', async () => {
    await jobs.stop();
    await after();
  });
}
