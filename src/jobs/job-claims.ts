import type { Clock } from '../ids.js';
import type { Job, JobErrorReason } from '../domain/jobs.js';
import type { Lease } from '../storage/kysely/jobs-store.js';
import type { Store, StoreWriters } from '../storage/store.js';
import type { JobHandler } from './job-handler.js';

/** How often a busy worker's claims look for jobs whose lease lapsed, at most. */
const LAPSED_SCAN_MS = 1000;

/**
 * A worker's side of the queue's rows: claiming due jobs under its lease, giving up on a job for
 * good (the dead letter), and giving claimed jobs back unstarted. The JobWorker decides when;
 * this writes, always naming each attempt's fencing token.
 */
export class JobClaims {
  #lapsedSeenAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: {
      store: Store;
      clock: Clock;
      owner: string;
      leaseMs: number;
      handlers: ReadonlyMap<string, JobHandler>;
    },
  ) {}

  /** The lease a claim or renewal writes now. */
  lease(): Lease {
    const now = this.options.clock.now();
    return {
      owner: this.options.owner,
      until: new Date(now.getTime() + this.options.leaseMs).toISOString(),
      now: now.toISOString(),
    };
  }

  /**
   * Up to `limit` due jobs claimed in a transaction of their own; null: none was claimed. A poll
   * (`known` false) reads first whether any is due (nothing due: one read, no write) and looks
   * for lapsed leases; a wake after an enqueue (`known`) claims at once, sparing a pickup the read.
   */
  async claim(limit: number, known = false): Promise<Job[] | null> {
    const kinds = [...this.options.handlers.keys()];
    if (!known && !(await this.options.store.jobs.anyDue({ kinds, now: this.lease().now }))) return null;
    return this.options.store.write(async (writers) => {
      const jobs = await this.claimWith(writers, limit, { lapsed: !known });
      return jobs.length === 0 ? null : jobs;
    });
  }

  /**
   * Claims up to `limit` due jobs in the caller's transaction: the runnable ones; those past
   * their attempts are given up. Jobs whose lease lapsed are looked for when `lapsed` says so,
   * else at most every LAPSED_SCAN_MS (a busy worker's claims skip that scan: a lapsed lease is
   * already `leaseMs` late, and a poll always looks).
   */
  async claimWith(writers: StoreWriters, limit: number, options: { lapsed?: boolean } = {}): Promise<Job[]> {
    const lease = this.lease();
    const at = Date.parse(lease.now);
    const lapsed =
      options.lapsed === true || at - this.#lapsedSeenAt >= Math.min(LAPSED_SCAN_MS, this.options.leaseMs / 4);
    if (lapsed) this.#lapsedSeenAt = at;
    const kinds = [...this.options.handlers.keys()];
    // Every caller claims last in its transaction (then only gives up jobs past their attempts).
    const jobs = await writers.jobs.claim({ kinds, lease, limit, lapsed, last: true });
    const runnable: Job[] = [];
    for (const job of jobs) {
      if (job.attempts <= job.max_attempts) runnable.push(job);
      // One claim past the last attempt: the last was interrupted (its process died).
      else await this.giveUp(writers, { ...job, attempts: job.max_attempts }, 'interrupted', lease.now);
    }
    return runnable;
  }

  /** Fails the job for good (the dead letter), through its handler's onGiveUp when it has one. */
  async giveUp(writers: StoreWriters, job: Job, reason: JobErrorReason, now: string): Promise<void> {
    const handler = this.options.handlers.get(job.kind)!;
    const last = { ...job, error_reason: reason };
    const message = handler.onGiveUp
      ? await handler.onGiveUp({ job: last, writers, now })
      : (job.error_message ?? `the job was interrupted ${job.attempts} times`);
    await writers.jobs.finish({
      id: job.id,
      token: job.lease_token,
      status: 'failed',
      errorMessage: message,
      errorReason: reason,
      now,
    });
  }

  /** Gives claimed jobs back to the queue unstarted, due now, their attempt not counted. */
  async giveBack(jobs: readonly Job[]): Promise<void> {
    const now = this.lease().now;
    await this.options.store.write(async (writers) => {
      for (const job of jobs) {
        await writers.jobs.release({ id: job.id, token: job.lease_token, runAfter: now, countAttempt: false, now });
      }
    });
  }
}
