import type { FastifyBaseLogger } from 'fastify';
import type { Clock, IdGenerator } from '../ids.js';
import type { Store } from '../storage/store.js';
import type { Job } from '../domain/jobs.js';
import type { JobHandler, JobOutcome } from './job-handler.js';

/** Why a running job's signal was aborted: each leaves the job in another state. */
type StopReason = 'shutdown' | 'lease_lost' | 'cancelled';

interface RunningJob {
  job: Job;
  controller: AbortController;
  stopReason: StopReason | null;
  done: Promise<void>;
}

export interface JobWorkerOptions {
  store: Store;
  clock: Clock;
  newId: IdGenerator;
  handlers: readonly JobHandler[];
  /** Jobs this process runs at once. */
  concurrency: number;
  /** How long a claim lasts without renewal; renewed every third of it while the job runs. */
  leaseMs: number;
  /** How often the queue is polled for due jobs (enqueues in this process wake it at once). */
  pollMs?: number;
  log: FastifyBaseLogger;
}

/** Retry delay after an unexpected error, per attempt made so far (capped). */
const RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 60_000;

/** A job's `error_message` after an attempt failed unexpectedly (details are in the server log only). */
export const UNEXPECTED_ERROR = 'an internal error stopped the attempt';

/**
 * One per process: runs due jobs of the lease-based queue (src/domain/jobs.ts, docs/adr/0022) with
 * their handlers, `concurrency` at a time. Polls every `pollMs`, and `wake()` polls at once (call
 * it after committing an enqueue). A running job's lease is renewed every `leaseMs / 3`; if a
 * renewal finds the lease gone (the job was deleted, or this process stalled so long another
 * claimed it), the job's signal is aborted and nothing more of it is written. `stop()` aborts the
 * running jobs, waits for them, and gives their leases back (a graceful stop does not count as an
 * attempt), so another process — or this one's successor — takes them up at once.
 */
export class JobWorker {
  readonly #options: JobWorkerOptions;
  readonly #handlers: Map<string, JobHandler>;
  readonly #running = new Map<string, RunningJob>();
  readonly #owner: string;
  #timer: NodeJS.Timeout | undefined;
  #filling: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  constructor(options: JobWorkerOptions) {
    this.#options = options;
    this.#handlers = new Map(options.handlers.map((handler) => [handler.kind, handler]));
    this.#owner = `worker-${options.newId()}`;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#timer = setInterval(() => this.wake(), this.#options.pollMs ?? 1000);
    this.#timer.unref();
    this.wake();
  }

  /** Claims due jobs now, up to the free slots (coalesces calls made while a claim runs). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#filling) {
      this.#again = true;
      return;
    }
    this.#filling = this.#fill()
      .catch((error: unknown) => this.#options.log.error({ err: error }, 'job queue: claiming failed'))
      .finally(() => {
        this.#filling = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Stops a job of this process at once (its subject was deleted; its row is gone already). */
  cancel(jobId: string): void {
    const running = this.#running.get(jobId);
    if (running) this.#abort(running, 'cancelled');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#filling;
    const running = [...this.#running.values()];
    for (const job of running) this.#abort(job, 'shutdown');
    await Promise.all(running.map((job) => job.done));
  }

  async #fill(): Promise<void> {
    while (!this.#stopped && this.#running.size < this.#options.concurrency) {
      const claimed = await this.#claim();
      if (claimed === 'none') return;
      if (claimed !== 'gave_up') this.#execute(claimed);
    }
  }

  #lease() {
    const now = this.#options.clock.now();
    return {
      owner: this.#owner,
      until: new Date(now.getTime() + this.#options.leaseMs).toISOString(),
      now: now.toISOString(),
    };
  }

  /** One due job claimed for this worker — or given up, when it has used all its attempts. */
  async #claim(): Promise<Job | 'gave_up' | 'none'> {
    const lease = this.#lease();
    const kinds = [...this.#handlers.keys()];
    if (!(await this.#options.store.jobs.anyDue({ kinds, now: lease.now }))) return 'none';
    return this.#options.store.write(async (writers) => {
      const job = await writers.jobs.claim({ kinds, lease });
      if (!job) return 'none';
      if (job.attempts <= job.max_attempts) return job;
      // This claim is one past the last attempt: every attempt was interrupted or failed.
      const exhausted = { ...job, attempts: job.max_attempts };
      const reason = await this.#handlers.get(job.kind)!.onGiveUp({ job: exhausted, writers, now: lease.now });
      await writers.jobs.finish({
        id: job.id,
        owner: lease.owner,
        status: 'failed',
        errorMessage: reason,
        now: lease.now,
      });
      return 'gave_up';
    });
  }

  #execute(job: Job): void {
    const controller = new AbortController();
    const running: RunningJob = { job, controller, stopReason: null, done: Promise.resolve() };
    this.#running.set(job.id, running);
    const renewal = setInterval(() => void this.#renew(running), Math.max(100, Math.floor(this.#options.leaseMs / 3)));
    running.done = this.#runToEnd(running)
      .catch((error: unknown) => this.#options.log.error({ err: error, job: job.id }, 'job queue: ending a job failed'))
      .finally(() => {
        clearInterval(renewal);
        this.#running.delete(job.id);
        this.wake();
      });
  }

  async #runToEnd(running: RunningJob): Promise<void> {
    const { job, controller } = running;
    const handler = this.#handlers.get(job.kind)!;
    let outcome: JobOutcome;
    try {
      outcome = await handler.run(job, {
        signal: controller.signal,
        reportProgress: (progress) =>
          this.#options.store.write((writers) =>
            writers.jobs.progress({ id: job.id, owner: this.#owner, progress, now: this.#now() }),
          ),
      });
    } catch (error) {
      if (running.stopReason !== null) return this.#afterStop(running);
      return this.#afterError(running, error);
    }
    if (running.stopReason !== null) return this.#afterStop(running);
    await this.#options.store.write(async (writers) => {
      const ended = await writers.jobs.finish({
        id: job.id,
        owner: this.#owner,
        status: outcome.status,
        errorMessage: outcome.errorMessage,
        progress: outcome.progress,
        now: this.#now(),
      });
      if (ended && outcome.commit) await outcome.commit(writers);
    });
  }

  /** A shutdown gives the lease back; a lost lease or a deleted subject leaves nothing to write. */
  async #afterStop(running: RunningJob): Promise<void> {
    if (running.stopReason !== 'shutdown') return;
    const now = this.#now();
    await this.#options.store.write((writers) =>
      writers.jobs.release({ id: running.job.id, owner: this.#owner, runAfter: now, countAttempt: false, now }),
    );
  }

  /** An unexpected error: logged, and the job retried later (the attempt counts). */
  async #afterError(running: RunningJob, error: unknown): Promise<void> {
    const { job } = running;
    this.#options.log.error({ err: error, job: job.id, kind: job.kind }, 'job failed unexpectedly; it will be retried');
    const now = this.#options.clock.now();
    const delay = Math.min(MAX_RETRY_DELAY_MS, RETRY_DELAY_MS * 2 ** Math.max(0, job.attempts - 1));
    await this.#options.store.write(async (writers) => {
      await writers.jobs.release({
        id: job.id,
        owner: this.#owner,
        runAfter: new Date(now.getTime() + delay).toISOString(),
        countAttempt: true,
        errorMessage: UNEXPECTED_ERROR,
        now: now.toISOString(),
      });
    });
  }

  async #renew(running: RunningJob): Promise<void> {
    if (running.stopReason !== null) return;
    try {
      const lease = this.#lease();
      const held = await this.#options.store.write((writers) => writers.jobs.renew({ id: running.job.id, lease }));
      if (!held) this.#abort(running, 'lease_lost');
    } catch (error) {
      // The next renewal tries again; the lease lapses (and the job is claimed again) if none succeeds.
      this.#options.log.warn({ err: error, job: running.job.id }, 'job queue: renewing a lease failed');
    }
  }

  #abort(running: RunningJob, reason: StopReason): void {
    if (running.stopReason !== null) return;
    running.stopReason = reason;
    running.controller.abort(new Error(`job stopped: ${reason}`));
  }

  #now(): string {
    return this.#options.clock.now().toISOString();
  }
}
