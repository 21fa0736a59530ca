import type { Job } from '../domain/jobs.js';
import { claimOrder } from '../storage/kysely/job-rows.js';

interface ReadyJob {
  job: Job;
  /** `now()` when the claim that took it committed. */
  claimedAt: number;
}

/**
 * A worker's jobs claimed ahead of a free slot (its prefetch), kept in claim order — priority,
 * schedule, enqueue order — so a later claim's urgent job still starts before an earlier claim's
 * normal one. A ready job holds its lease like a running one; it is not renewed until it starts,
 * so a job that waited `maxWaitMs` (a third of the lease: its first renewal, `leaseMs / 3` after
 * the start, then still comes before the lease lapses) is handed back stale, for the queue.
 */
export class ReadyJobs {
  #jobs: ReadyJob[] = [];

  constructor(private readonly options: { maxWaitMs: number; now: () => number }) {}

  get size(): number {
    return this.#jobs.length;
  }

  add(jobs: readonly Job[]): void {
    if (jobs.length === 0) return;
    const claimedAt = this.options.now();
    this.#jobs.push(...jobs.map((job) => ({ job, claimedAt })));
    this.#jobs.sort((left, right) => claimOrder(left.job, right.job));
  }

  /** The next job to start (null: none), and the jobs that waited too long to start (give them back). */
  take(): { job: Job | null; stale: Job[] } {
    const stale: Job[] = [];
    const oldest = this.options.now() - this.options.maxWaitMs;
    for (;;) {
      const next = this.#jobs.shift();
      if (next === undefined) return { job: null, stale };
      if (next.claimedAt > oldest) return { job: next.job, stale };
      stale.push(next.job);
    }
  }

  /** Drops the job (it was cancelled before it started); whether it was here. */
  remove(jobId: string): boolean {
    const before = this.#jobs.length;
    this.#jobs = this.#jobs.filter((ready) => ready.job.id !== jobId);
    return this.#jobs.length < before;
  }

  /** Empties the buffer (the worker stops): the jobs to give back. */
  drain(): Job[] {
    const jobs = this.#jobs.map((ready) => ready.job);
    this.#jobs = [];
    return jobs;
  }
}
