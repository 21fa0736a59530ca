/** The job queue's tables (migrations 0009 and 0013; docs/jobs.md). */

/** A background job in the lease-based queue (migration 0009). */
export interface JobRow {
  id: string;
  organization_id: string;
  /** `file_ingestion`, … */
  kind: string;
  /** What the job works on (a file id for `file_ingestion`). */
  subject_id: string;
  /** `queued`, `running`, `succeeded`, `failed` or `cancelled`. */
  status: string;
  /** 0 low … 3 urgent. */
  priority: number;
  /** JSON object: the kind's input. */
  payload: string;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  /** JSON `{kind, base_ms, max_ms}`, or null: the queue's settings. */
  backoff: string | null;
  run_after: string;
  lease_owner: string | null;
  lease_until: string | null;
  /** The fencing token, raised by every claim. */
  lease_token: number;
  /** JSON object, defined by the job's kind. */
  progress: string;
  error_message: string | null;
  /** `error`, `timeout` or `interrupted`: why the last attempt ended without an outcome. */
  error_reason: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** Written only by the test job kinds (`PARLEY_TEST_JOB_KINDS=1`): a start or completion of a job. */
export interface JobTestRunRow {
  job_id: string;
  /** `start` or `complete`. */
  event: string;
  owner: string;
  lease_token: number;
  at: string;
}
