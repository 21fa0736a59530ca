import type { JsonObject } from '../../domain/models.js';
import {
  JOB_PRIORITIES,
  type Job,
  type JobBackoff,
  type JobErrorReason,
  type JobStatus,
  type NewJob,
} from '../../domain/jobs.js';
import type { JobRow } from './schema.js';
import { parseJson } from './executor.js';

/** The queue's rows and its jobs, mapped in one place (jobs-store.ts writes and reads them). */

export function rowToJob(row: JobRow): Job {
  return {
    ...row,
    // Only this store writes these columns, and only with the queue's values.
    status: row.status as JobStatus,
    error_reason: row.error_reason as JobErrorReason | null,
    priority: Number(row.priority),
    payload: parseJson<JsonObject>(row.payload),
    attempts: Number(row.attempts),
    max_attempts: Number(row.max_attempts),
    timeout_ms: row.timeout_ms === null ? null : Number(row.timeout_ms),
    backoff: row.backoff === null ? null : parseJson<JobBackoff>(row.backoff),
    lease_token: Number(row.lease_token),
    progress: parseJson<JsonObject>(row.progress),
  };
}

/** Claim order: priority (higher first), schedule, enqueue order (ids are UUID v7). */
export function claimOrder(left: Job, right: Job): number {
  return (
    right.priority - left.priority || left.run_after.localeCompare(right.run_after) || left.id.localeCompare(right.id)
  );
}

/** A claimed job past its attempts: the caller gives it up, with more writes in the transaction. */
export const pastAttempts = (job: Job) => job.attempts > job.max_attempts;

/** SQLite allows 32,766 bound values; a job row binds 24. */
export const ENQUEUE_ROWS_PER_STATEMENT = 500;

/** A new job's row: queued, due at `run_after` (default now), no attempt yet. */
export function newJobRow(job: NewJob): JobRow {
  return {
    id: job.id,
    organization_id: job.organization_id,
    kind: job.kind,
    subject_id: job.subject_id,
    status: 'queued',
    priority: JOB_PRIORITIES[job.priority ?? 'normal'],
    payload: JSON.stringify(job.payload ?? {}),
    attempts: 0,
    max_attempts: job.max_attempts,
    timeout_ms: job.timeout_ms ?? null,
    backoff: job.backoff ? JSON.stringify(job.backoff) : null,
    run_after: job.run_after ?? job.now,
    lease_owner: null,
    lease_until: null,
    lease_token: 0,
    progress: JSON.stringify(job.progress),
    error_message: null,
    error_reason: null,
    created_at: job.now,
    updated_at: job.now,
    started_at: null,
    finished_at: null,
  };
}
