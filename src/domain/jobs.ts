import type { JsonObject } from './models.js';

/**
 * A background job of the durable queue (src/jobs/job-worker.ts, docs/jobs.md, ADR 0022 and
 * 0026); a domain type, so the store can map its rows. Generic over `kind`: the queue knows
 * nothing of what a job does; its handler does (`file_ingestion`, flows later). `subject_id`
 * names what the job works on (a file id for `file_ingestion`); `payload` is the kind's input.
 *
 * queued ──claim──► running ──► succeeded | failed
 *    ▲                 │ lease lapsed (process died): claimed again, `attempts` + 1
 *    └── released ─────┘ error or timeout: queued again after a back-off while attempts remain;
 *  (graceful stop, retry)  then `failed` with the last error kept (the dead letter)
 *                          cancelled: its subject was deleted (the row goes with it)
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Claimed in this order (higher first), then by `run_after`, then in enqueue order. */
export const JOB_PRIORITIES = { low: 0, normal: 1, high: 2, urgent: 3 } as const;
export type JobPriority = keyof typeof JOB_PRIORITIES;

/** Why the last attempt ended without an outcome: kept with `error_message`. */
export type JobErrorReason = 'error' | 'timeout' | 'interrupted';

/** A job's own retry delay; null in a job: the queue's (`JOB_BACKOFF*`). */
export interface JobBackoff {
  kind: 'exponential' | 'fixed';
  base_ms: number;
  max_ms: number;
}

export interface Job {
  id: string;
  organization_id: string;
  kind: string;
  subject_id: string;
  status: JobStatus;
  /** 0 (low) … 3 (urgent): JOB_PRIORITIES. */
  priority: number;
  payload: JsonObject;
  /** How many times the job was claimed (a claim whose lease lapsed counts). */
  attempts: number;
  max_attempts: number;
  /** Per-attempt limit; null: the queue's `JOB_TIMEOUT_MS`. */
  timeout_ms: number | null;
  backoff: JobBackoff | null;
  run_after: string;
  lease_owner: string | null;
  lease_until: string | null;
  /**
   * The fencing token: raised by every claim. Every later write of the attempt (renew, progress,
   * end, release) must name it, so a worker whose lease lapsed and was claimed again writes nothing.
   */
  lease_token: number;
  /** Defined by the job's kind (file ingestion: pages, chunks, problems). */
  progress: JsonObject;
  error_message: string | null;
  error_reason: JobErrorReason | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface NewJob {
  id: string;
  organization_id: string;
  kind: string;
  subject_id: string;
  max_attempts: number;
  progress: JsonObject;
  now: string;
  payload?: JsonObject | undefined;
  priority?: JobPriority | undefined;
  /** ISO time before which the job is not claimed (a schedule); `now` when absent. */
  run_after?: string | undefined;
  timeout_ms?: number | undefined;
  backoff?: JobBackoff | undefined;
}

/** Statuses of a job that is not over: at most one such job per subject is wanted. */
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ['queued', 'running'];

/** Statuses of a job that is over: retention deletes these once old enough. */
export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
