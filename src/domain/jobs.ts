import type { JsonObject } from './models.js';

/**
 * A background job of the lease-based queue (src/jobs/job-worker.ts, docs/adr/0022); a domain type, so the store can map its rows. Generic over
 * `kind`: the queue knows nothing of what a job does; its handler does (`file_ingestion` now,
 * flows later). `subject_id` names what the job works on (a file id for `file_ingestion`).
 *
 * queued ──claim──► running ──► succeeded | failed
 *    ▲                 │ lease lapsed (process died): claimed again, `attempts` + 1,
 *    └── released ─────┘ past `max_attempts` failed by its handler's onGiveUp
 *  (graceful stop, retry)        cancelled: its subject was deleted (the row goes with it)
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  organization_id: string;
  kind: string;
  subject_id: string;
  status: JobStatus;
  /** How many times the job was claimed (a claim whose lease lapsed counts). */
  attempts: number;
  max_attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_until: string | null;
  /** Defined by the job's kind (file ingestion: pages, chunks, problems). */
  progress: JsonObject;
  error_message: string | null;
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
}

/** Statuses of a job that is not over: at most one such job per subject is wanted. */
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ['queued', 'running'];
