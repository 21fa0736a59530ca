import type { FastifyBaseLogger } from 'fastify';
import type { BackoffPolicy } from '../config-jobs.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { Store, StoreWriters } from '../storage/store.js';
import type { Job, JobErrorReason } from '../domain/jobs.js';
import type { JobHandler, JobOutcome } from './job-handler.js';
import { JobClaims } from './job-claims.js';
import { JobEnds } from './job-ends.js';
import { retryDelayMs } from './retry-delay.js';

/** Why a running job's signal was aborted: each leaves the job in another state. */
type StopReason = 'shutdown' | 'lease_lost' | 'cancelled' | 'timeout';

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
  /** Jobs this process runs at once; 0: it runs none (`start` does nothing). */
  concurrency: number;
  /** How long a claim lasts without renewal; renewed every third of it while the job runs. */
  leaseMs: number;
  /** An attempt's time limit for jobs enqueued without their own `timeout_ms`. */
  timeoutMs: number;
  /** The retry delay of jobs enqueued without their own `backoff`. */
  backoff: BackoffPolicy;
  /** The longest wait between polls when idle; polling starts at a twentieth of it (enqueues here wake it at once). */
  pollMs: number;
  log: FastifyBaseLogger;
}

/** A job's `error_message` after an attempt failed unexpectedly (details are in the server log only). */
export const UNEXPECTED_ERROR = 'an internal error stopped the attempt';

/**
 * One per process: runs due jobs of the durable queue (src/domain/jobs.ts, docs/jobs.md) with
 * their handlers, `concurrency` at a time. An idle worker polls — first after `pollMs / 20`,
 * then twice as long each time nothing is due, up to `pollMs` — and `wake()` polls at once (call
 * it after committing an enqueue; a finished job calls it too). One claim takes as many due jobs
 * as there are free slots. A running job's lease is renewed every `leaseMs / 3`; a renewal that
 * finds the lease gone aborts the job's signal and nothing more of it is written (every write
 * names the claim's fencing token). An attempt that outruns its timeout is aborted and recorded
 * as `timeout`; errors and timeouts are retried after a back-off until the attempts are spent,
 * then the job fails (the dead letter). `stop(graceMs)` drains: no more claims, running jobs get
 * `graceMs` to finish, the rest are aborted and their leases released (not counted as attempts).
 * Ends are written in batches, and each batch's transaction claims successors for the slots it
 * frees (src/jobs/job-ends.ts): a busy worker spends one commit per batch, not two per job.
 */
export class JobWorker {
  readonly #options: JobWorkerOptions;
  readonly #handlers: Map<string, JobHandler>;
  readonly #running = new Map<string, RunningJob>();
  readonly #owner: string;
  readonly #minPollMs: number;
  #pollDelayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #filling: Promise<void> | null = null;
  #again = false;
  #stopped = true;
  readonly #claims: JobClaims;
  readonly #ends: JobEnds;
  #givingBack: Promise<void> = Promise.resolve();

  constructor(options: JobWorkerOptions) {
    this.#options = options;
    this.#handlers = new Map(options.handlers.map((handler) => [handler.kind, handler]));
    this.#owner = `worker-${options.newId()}`;
    this.#minPollMs = Math.max(10, Math.floor(options.pollMs / 20));
    this.#pollDelayMs = this.#minPollMs;
    const { store, clock, leaseMs } = options;
    this.#claims = new JobClaims({ store, clock, owner: this.#owner, leaseMs, handlers: this.#handlers });
    this.#ends = new JobEnds({
      store: options.store,
      now: () => this.#now(),
      refill: (writers, freed) => this.#refill(writers, freed),
      // Started before the ended jobs leave `#running`, so `#fill` never counts their slots free twice.
      refilled: (jobs) => (this.#stopped ? this.#giveBack(jobs) : jobs.forEach((job) => this.#execute(job))),
    });
  }

  get owner(): string {
    return this.#owner;
  }

  start(): void {
    if (!this.#stopped || this.#options.concurrency < 1) return;
    this.#stopped = false;
    this.wake();
  }

  /** Claims due jobs now, up to the free slots (coalesces calls made while a claim runs). */
  wake(): void {
    this.#pollDelayMs = this.#minPollMs;
    this.#poll();
  }

  #poll(): void {
    if (this.#stopped) return;
    if (this.#filling) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    let claimed = 0;
    this.#filling = this.#fill()
      .then((count) => void (claimed = count))
      .catch((error: unknown) => this.#options.log.error({ err: error }, 'job queue: claiming failed'))
      .finally(() => {
        this.#filling = null;
        if (this.#again) {
          this.#again = false;
          this.#poll();
          return;
        }
        if (claimed > 0) this.#pollDelayMs = this.#minPollMs;
        this.#schedulePoll();
        // Nothing was due: the poll after next waits twice as long (a claim or a wake resets it).
        if (claimed === 0) this.#pollDelayMs = Math.min(this.#options.pollMs, this.#pollDelayMs * 2);
      });
  }

  /** Stops a job of this process at once (its subject was deleted; its row is gone already). */
  cancel(jobId: string): void {
    const running = this.#running.get(jobId);
    if (running) this.#abort(running, 'cancelled');
  }

  /**
   * Drains: claims stop now; running jobs get `graceMs` to finish; those still running then are
   * aborted and given back to the queue (their attempt not counted), for another process — or
   * this one's successor — to take up at once.
   */
  async stop(graceMs = 0): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#filling;
    const running = [...this.#running.values()];
    if (graceMs > 0 && running.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.all(running.map((job) => job.done)), grace]);
      clearTimeout(timer);
    }
    for (const job of this.#running.values()) this.#abort(job, 'shutdown');
    await Promise.all(running.map((job) => job.done));
    // Successors that a last batch of ends claimed as the stop began are given back as well.
    await this.#givingBack;
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#poll(), this.#pollDelayMs);
    this.#timer.unref();
  }

  /** Claims until the slots are full or nothing is due; returns how many jobs it claimed. */
  async #fill(): Promise<number> {
    let count = 0;
    while (!this.#stopped && this.#running.size < this.#options.concurrency) {
      const claimed = await this.#claims.claim(this.#options.concurrency - this.#running.size);
      if (claimed === null) return count;
      count += claimed.length;
      for (const job of claimed) this.#execute(job);
    }
    return count;
  }

  /**
   * The slots of the jobs a batch of ends frees, taken again in that batch's transaction: one
   * commit ends some jobs and claims their successors (ADR 0026). Nothing is claimed once stopping.
   */
  async #refill(writers: StoreWriters, freed: number): Promise<Job[]> {
    return this.#stopped ? [] : this.#claims.claimWith(writers, freed);
  }

  /** Jobs a batch of ends claimed after the stop began: back to the queue, for another worker. */
  #giveBack(jobs: readonly Job[]): void {
    this.#givingBack = this.#givingBack
      .then(() => this.#claims.giveBack(jobs))
      .catch((error: unknown) => this.#options.log.error({ err: error }, 'job queue: giving claimed jobs back failed'));
  }

  #execute(job: Job): void {
    const controller = new AbortController();
    const running: RunningJob = { job, controller, stopReason: null, done: Promise.resolve() };
    this.#running.set(job.id, running);
    const renewal = setInterval(() => void this.#renew(running), Math.max(100, Math.floor(this.#options.leaseMs / 3)));
    const timeout = setTimeout(() => this.#abort(running, 'timeout'), job.timeout_ms ?? this.#options.timeoutMs);
    running.done = this.#runToEnd(running)
      .catch((error: unknown) => this.#options.log.error({ err: error, job: job.id }, 'job queue: ending a job failed'))
      .finally(() => {
        clearInterval(renewal);
        clearTimeout(timeout);
        this.#running.delete(job.id);
        this.wake();
      });
  }

  async #runToEnd(running: RunningJob): Promise<void> {
    const { job, controller } = running;
    const handler = this.#handlers.get(job.kind)!;
    const attempt = { id: job.id, token: job.lease_token };
    let outcome: JobOutcome;
    try {
      outcome = await handler.run(job, {
        signal: controller.signal,
        owner: this.#owner,
        reportProgress: (progress) =>
          this.#options.store.write((writers) => writers.jobs.progress({ ...attempt, progress, now: this.#now() })),
      });
    } catch (error) {
      if (running.stopReason !== null) return this.#afterStop(running);
      this.#options.log.error({ err: error, job: job.id, kind: job.kind }, 'job failed unexpectedly');
      return this.#afterFailure(running, { message: UNEXPECTED_ERROR, reason: 'error' });
    }
    if (running.stopReason !== null) return this.#afterStop(running);
    const { status, errorMessage, progress } = outcome;
    // Ends are batched (src/jobs/job-ends.ts): a job's end shares the next commit with others'.
    return this.#ends.end({ ...attempt, status, errorMessage, progress }, outcome.commit);
  }

  /** A shutdown gives the lease back; a timeout is a failed attempt; a lost lease or deleted subject: nothing to write. */
  async #afterStop(running: RunningJob): Promise<void> {
    const { job } = running;
    if (running.stopReason === 'timeout') {
      const limit = job.timeout_ms ?? this.#options.timeoutMs;
      return this.#afterFailure(running, { message: `the attempt timed out after ${limit} ms`, reason: 'timeout' });
    }
    if (running.stopReason !== 'shutdown') return;
    const now = this.#now();
    await this.#options.store.write((writers) =>
      writers.jobs.release({ id: job.id, token: job.lease_token, runAfter: now, countAttempt: false, now }),
    );
  }

  /** An error or timeout: retried after the back-off while attempts remain, else the job fails for good. */
  async #afterFailure(running: RunningJob, error: { message: string; reason: JobErrorReason }): Promise<void> {
    const { job } = running;
    const now = this.#options.clock.now();
    await this.#options.store.write(async (writers) => {
      if (job.attempts >= job.max_attempts) {
        return this.#claims.giveUp(writers, { ...job, error_message: error.message }, error.reason, now.toISOString());
      }
      const delay = retryDelayMs({ attempt: job.attempts, job: job.backoff, defaults: this.#options.backoff });
      await writers.jobs.release({
        id: job.id,
        token: job.lease_token,
        runAfter: new Date(now.getTime() + delay).toISOString(),
        countAttempt: true,
        error,
        now: now.toISOString(),
      });
    });
  }

  async #renew(running: RunningJob): Promise<void> {
    if (running.stopReason !== null) return;
    try {
      const { until, now } = this.#claims.lease();
      const attempt = { id: running.job.id, token: running.job.lease_token };
      const held = await this.#options.store.write((writers) => writers.jobs.renew({ ...attempt, until, now }));
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
