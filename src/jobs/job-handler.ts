import type { JsonObject } from '../domain/models.js';
import type { StoreWriters } from '../storage/store.js';
import type { Job } from '../domain/jobs.js';

/**
 * What a kind of job does (registered with the JobWorker by `kind`). The queue leases, renews,
 * times out, retries and gives up; the handler does the work and says what became of its subject.
 */
export interface JobHandler {
  readonly kind: string;
  /**
   * Does the job. `context.signal` aborts when the attempt must stop (timeout, shutdown, lease
   * lost, subject deleted): stop soon and throw (anything thrown after the abort is taken as that
   * stop). An error thrown otherwise is unexpected: the job is retried after a back-off while
   * attempts remain. Work may run more than once (a process dies mid-attempt), but only the
   * attempt holding the lease commits its outcome: make side effects outside the database idempotent.
   */
  run(job: Job, context: JobContext): Promise<JobOutcome>;
  /**
   * The job ran out of attempts (`job.attempts` claims were interrupted, timed out or failed
   * unexpectedly: `job.error_reason` and `job.error_message` say how the last one ended): record
   * on the subject why it will not finish, and return the job's final `error_message`. Runs in
   * the transaction that fails the job, so it only writes to the database. Absent: the last
   * attempt's error is kept as it is.
   */
  onGiveUp?(input: { job: Job; writers: StoreWriters; now: string }): Promise<string>;
}

export interface JobContext {
  readonly signal: AbortSignal;
  /** This process's worker id (the lease owner), for logs. */
  readonly owner: string;
  /** Stores the job's progress; false once the lease is no longer this attempt's (stop then). */
  reportProgress(progress: JsonObject): Promise<boolean>;
}

/**
 * How the job ended. `commit` runs in the transaction that ends the job, and only if this attempt
 * still holds its lease: the handler's final writes (e.g. the file marked ready) and the job's
 * end are one commit. A `failed` outcome is final (not retried): the handler judged the input.
 */
export interface JobOutcome {
  status: 'succeeded' | 'failed';
  errorMessage: string | null;
  progress?: JsonObject | undefined;
  commit?: ((writers: StoreWriters) => Promise<void>) | undefined;
}
