import type { FastifyBaseLogger } from 'fastify';
import type { BackoffPolicy } from '../config-jobs.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { Store } from '../storage/store.js';
import type { Listening } from '../storage/kysely/postgres-listener.js';
import type { Job, JobErrorReason } from '../domain/jobs.js';
import type { JobHandler, JobOutcome } from './job-handler.js';
import { JobClaims } from './job-claims.js';
import { JobEnds } from './job-ends.js';
import { ReadyJobs } from './job-ready.js';
import { retryDelayMs } from './retry-delay.js';

/** Why a running job's signal was aborted: each leaves the job in another state. */
type StopReason = 'shutdown' | 'lease_lost' | 'cancelled' | 'timeout';

interface RunningJob {
  job: Job;
  controller: AbortController;
  stopReason: StopReason | null;
  /** The handler returned or threw: the job no longer takes a slot (its end may still be committing). */
  slotFreed: boolean;
  done: Promise<void>;
}

export interface JobWorkerOptions {
  store: Store;
  clock: Clock;
  newId: IdGenerator;
  handlers: readonly JobHandler[];
  /** Jobs this process runs at once (handlers running); 0: it runs none (`start` does nothing). */
  concurrency: number;
  /**
   * Jobs claimed ahead of a free slot, started as slots free without waiting for a claim
   * (default: PREFETCH_PER_SLOT × concurrency; 0: claims only for free slots).
   */
  prefetch?: number | undefined;
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

/** The default prefetch, per slot of concurrency. */
export const PREFETCH_PER_SLOT = 4;

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
 * A slot frees when the handler returns; its end is written in a batch with others', and each
 * batch's transaction claims successors (src/jobs/job-ends.ts) into a buffer of ready jobs
 * (src/jobs/job-ready.ts, up to `prefetch` beyond the slots), from which freed slots start the
 * next job at once: a busy worker spends one commit per batch, not two per job (ADR 0038).
 * Invariants: at most `concurrency` handlers run at once; claimed jobs not yet ended (ready,
 * running or claims in flight) stay within `concurrency + prefetch`.
 */
export class JobWorker {
  readonly #options: JobWorkerOptions;
  readonly #handlers: Map<string, JobHandler>;
  /** From the start of each job until its end is committed. */
  readonly #running = new Map<string, RunningJob>();
  /** Handlers running: the slots taken. */
  #busy = 0;
  readonly #ready: ReadyJobs;
  /** Places taken by claims in flight (their jobs are not in `#ready` yet). */
  #reserved = 0;
  readonly #capacity: number;
  readonly #owner: string;
  readonly #minPollMs: number;
  #pollDelayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #filling: Promise<void> | null = null;
  #again = false;
  /** `wake()` was called since the last claim began: a job was enqueued, claim without probing first. */
  #woken = false;
  #stopped = true;
  readonly #claims: JobClaims;
  readonly #ends: JobEnds;
  #givingBack: Promise<void> = Promise.resolve();
  /** PostgreSQL: the connection that hears of other processes' enqueues (null on SQLite, or stopped). */
  #listening: Listening | null = null;

  constructor(options: JobWorkerOptions) {
    this.#options = options;
    this.#handlers = new Map(options.handlers.map((handler) => [handler.kind, handler]));
    this.#owner = `worker-${options.newId()}`;
    this.#minPollMs = Math.max(10, Math.floor(options.pollMs / 20));
    this.#pollDelayMs = this.#minPollMs;
    const { store, clock, leaseMs } = options;
    this.#capacity = options.concurrency + (options.prefetch ?? PREFETCH_PER_SLOT * options.concurrency);
    this.#ready = new ReadyJobs({ maxWaitMs: leaseMs / 3, now: () => clock.now().getTime() });
    this.#claims = new JobClaims({ store, clock, owner: this.#owner, leaseMs, handlers: this.#handlers });
    this.#ends = new JobEnds({
      store: options.store,
      now: () => this.#now(),
      // Nothing is claimed once stopping; what a batch claimed as the stop began is given back.
      refill: {
        reserve: () => this.#reserve(),
        claim: (writers, count) => this.#claims.claimWith(writers, count),
        settle: (reserved, claimed) => {
          this.#reserved -= reserved;
          this.#admit(claimed);
        },
      },
    });
  }

  get owner(): string {
    return this.#owner;
  }

  start(): void {
    if (!this.#stopped || this.#options.concurrency < 1) return;
    this.#stopped = false;
    // A poll, not a wake: the first claim also looks for jobs whose lease lapsed (a crash before).
    this.#poll();
    this.#listening = this.#options.store.listenForJobs({
      onNotification: () => this.wake(),
      // Jobs enqueued while no connection listened were announced to no one: look now.
      onListening: () => this.#pollNow(),
      onError: (error) => this.#options.log.warn({ err: error }, 'job queue: listening for enqueues failed; polling'),
    });
  }

  /** Polls at once (not a wake: the claim probes first), the back-off reset. */
  #pollNow(): void {
    this.#pollDelayMs = this.#minPollMs;
    this.#poll();
  }

  /** Claims due jobs now, up to the free slots (coalesces calls made while a claim runs). */
  wake(): void {
    this.#woken = true;
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
    if (this.#ready.remove(jobId)) return;
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
    const listening = this.#listening;
    this.#listening = null;
    await Promise.all([this.#filling, listening?.stop()]);
    this.#giveBack(this.#ready.drain());
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

  /**
   * Claims while a slot is free with no job ready and something is due, as many as there is room
   * for (the slots and the prefetch); returns how many jobs it claimed.
   */
  async #fill(): Promise<number> {
    let count = 0;
    while (!this.#stopped && this.#busy + this.#ready.size < this.#options.concurrency) {
      const limit = this.#reserve();
      let claimed: Job[] | null = null;
      try {
        const known = this.#woken;
        this.#woken = false;
        claimed = await this.#claims.claim(limit, known);
      } finally {
        this.#reserved -= limit;
      }
      if (claimed === null) return count;
      count += claimed.length;
      this.#admit(claimed);
    }
    return count;
  }

  /** Reserves the room a claim may fill now: `concurrency + prefetch` less the claimed jobs not yet ended. */
  #reserve(): number {
    if (this.#stopped) return 0;
    const room = Math.max(0, this.#capacity - this.#busy - this.#ready.size - this.#reserved);
    this.#reserved += room;
    return room;
  }

  /** Claimed jobs, committed: ready to start (given back when the worker is stopping). */
  #admit(jobs: readonly Job[]): void {
    if (jobs.length === 0) return;
    if (this.#stopped) return this.#giveBack(jobs);
    this.#ready.add(jobs);
    this.#pump();
  }

  /** Starts ready jobs while slots are free; those that waited too long for one go back to the queue. */
  #pump(): void {
    while (!this.#stopped && this.#busy < this.#options.concurrency) {
      const { job, stale } = this.#ready.take();
      if (stale.length > 0) this.#giveBack(stale);
      if (job === null) return;
      this.#execute(job);
    }
  }

  /** The handler is over: its slot takes the next ready job (the end may still be committing). */
  #freeSlot(running: RunningJob): void {
    if (running.slotFreed) return;
    running.slotFreed = true;
    this.#busy -= 1;
    this.#pump();
  }

  /** Claimed jobs that will not start here (stopping, or stale): back to the queue, for another worker. */
  #giveBack(jobs: readonly Job[]): void {
    if (jobs.length === 0) return;
    this.#givingBack = this.#givingBack
      .then(() => this.#claims.giveBack(jobs))
      .catch((error: unknown) => this.#options.log.error({ err: error }, 'job queue: giving claimed jobs back failed'));
  }

  #execute(job: Job): void {
    const controller = new AbortController();
    const running: RunningJob = { job, controller, stopReason: null, slotFreed: false, done: Promise.resolve() };
    this.#running.set(job.id, running);
    this.#busy += 1;
    const renewal = setInterval(() => void this.#renew(running), Math.max(100, Math.floor(this.#options.leaseMs / 3)));
    const timeout = setTimeout(() => this.#abort(running, 'timeout'), job.timeout_ms ?? this.#options.timeoutMs);
    running.done = this.#runToEnd(running)
      .catch((error: unknown) => this.#options.log.error({ err: error, job: job.id }, 'job queue: ending a job failed'))
      .finally(() => {
        clearInterval(renewal);
        clearTimeout(timeout);
        this.#running.delete(job.id);
        this.#freeSlot(running);
        // While batches of ends are written, their transactions claim; else a free slot polls.
        if (this.#ends.idle && this.#busy + this.#ready.size < this.#options.concurrency) {
          this.#pollNow();
        }
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
      this.#freeSlot(running);
      if (running.stopReason !== null) return this.#afterStop(running);
      this.#options.log.error({ err: error, job: job.id, kind: job.kind }, 'job failed unexpectedly');
      return this.#afterFailure(running, { message: UNEXPECTED_ERROR, reason: 'error' });
    }
    this.#freeSlot(running);
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
