import type { JsonObject } from '../domain/models.js';
import type { StoreWriters } from '../storage/store.js';
import type { Job } from '../domain/jobs.js';

/**
 * What a kind of job does (registered with the JobWorker by `kind`). The queue leases, renews,
 * retries and gives up; the handler does the work and says what became of its subject.
 */
export interface JobHandler {
  readonly kind: string;
  /**
   * Does the job. `context.signal` aborts when the job must stop (shutdown, lease lost, subject
   * deleted): stop soon and throw (anything thrown after the abort is taken as that stop). An
   * error thrown otherwise is unexpected: the job is retried while attempts remain.
   */
  run(job: Job, context: JobContext): Promise<JobOutcome>;
  /**
   * The job ran out of attempts (`job.attempts` claims were interrupted, or failed unexpectedly:
   * then `job.error_message` says so): record on the subject why it will not finish. Runs in the
   * transaction that fails the job, so it only writes to the database.
   */
  onGiveUp(input: { job: Job; writers: StoreWriters; now: string }): Promise<string>;
}

export interface JobContext {
  readonly signal: AbortSignal;
  /** Stores the job's progress; false once the lease is no longer this worker's (stop then). */
  reportProgress(progress: JsonObject): Promise<boolean>;
}

/**
 * How the job ended. `commit` runs in the transaction that ends the job, and only if this worker
 * still holds its lease: the handler's final writes (e.g. the file marked ready) and the job's
 * end are one commit.
 */
export interface JobOutcome {
  status: 'succeeded' | 'failed';
  errorMessage: string | null;
  progress?: JsonObject | undefined;
  commit?: ((writers: StoreWriters) => Promise<void>) | undefined;
}
