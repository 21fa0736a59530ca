import { ConfigError, readInteger, readOptional, type Environment } from './config-values.js';

/** How a failed attempt's retry is delayed: `base × 2^(attempt − 1)` with jitter, or `base` every time. */
export interface BackoffPolicy {
  readonly kind: 'exponential' | 'fixed';
  readonly baseMs: number;
  /** The longest delay (exponential). */
  readonly maxMs: number;
}

/** The durable job queue (docs/jobs.md). */
export interface JobsConfig {
  /**
   * `WORKER_CONCURRENCY` (or, when unset, the older `INGESTION_CONCURRENCY`): jobs this process
   * runs at once; 0: this process only enqueues (an API-only `serve`).
   */
  readonly workerConcurrency: number;
  /**
   * `WORKER_PREFETCH`: jobs a worker claims ahead of its free slots, so a freed slot starts the
   * next one without waiting for a claim; unset: 4 × `WORKER_CONCURRENCY`; 0: strict priority
   * (an urgent job enqueued later never waits behind claimed ones). ADR 0038.
   */
  readonly workerPrefetch: number | undefined;
  /** `JOB_LEASE_MS`: how long a claim lasts without renewal (renewed every third of it). */
  readonly leaseMs: number;
  /** `JOB_MAX_ATTEMPTS`: attempts of a job enqueued without its own. */
  readonly maxAttempts: number;
  /** `JOB_TIMEOUT_MS`: how long one attempt may run, for a job enqueued without its own. */
  readonly timeoutMs: number;
  /** `JOB_BACKOFF` (`exponential` | `fixed`), `JOB_BACKOFF_MS`, `JOB_BACKOFF_MAX_MS`. */
  readonly backoff: BackoffPolicy;
  /** `JOB_RETENTION_HOURS`: finished jobs older than this are deleted; 0: kept for ever. */
  readonly retentionHours: number;
  /** `JOB_POLL_MS`: the longest wait of an idle worker between polls (it starts at 1/20 of it). */
  readonly pollMs: number;
  /**
   * `FLOW_SCHEDULER_INTERVAL_MS`: how often a process that runs jobs looks for due flow schedules
   * (docs/flows.md#schedules); a slot fires at most this late.
   */
  readonly flowSchedulerIntervalMs: number;
  /** `PARLEY_TEST_JOB_KINDS=1`: registers the test-only job kinds (src/jobs/test-job-kinds.ts). */
  readonly testKinds: boolean;
}

export function readJobsConfig(environment: Environment): JobsConfig {
  const legacy = readInteger(environment, 'INGESTION_CONCURRENCY', 4, { min: 0, max: 256 });
  return Object.freeze({
    workerConcurrency: readInteger(environment, 'WORKER_CONCURRENCY', legacy, { min: 0, max: 256 }),
    workerPrefetch:
      readOptional(environment, 'WORKER_PREFETCH') === undefined
        ? undefined
        : readInteger(environment, 'WORKER_PREFETCH', 0, { min: 0, max: 4096 }),
    leaseMs: readInteger(environment, 'JOB_LEASE_MS', 30_000, { min: 1000, max: 3_600_000 }),
    maxAttempts: readInteger(environment, 'JOB_MAX_ATTEMPTS', 3, { min: 1, max: 100 }),
    timeoutMs: readInteger(environment, 'JOB_TIMEOUT_MS', 3_600_000, { min: 100, max: 86_400_000 }),
    backoff: Object.freeze({
      kind: readBackoffKind(environment),
      baseMs: readInteger(environment, 'JOB_BACKOFF_MS', 1000, { min: 0, max: 3_600_000 }),
      maxMs: readInteger(environment, 'JOB_BACKOFF_MAX_MS', 60_000, { min: 0, max: 86_400_000 }),
    }),
    retentionHours: readInteger(environment, 'JOB_RETENTION_HOURS', 168, { min: 0, max: 87_600 }),
    pollMs: readInteger(environment, 'JOB_POLL_MS', 1000, { min: 20, max: 60_000 }),
    flowSchedulerIntervalMs: readInteger(environment, 'FLOW_SCHEDULER_INTERVAL_MS', 10_000, {
      min: 20,
      max: 3_600_000,
    }),
    testKinds: readOptional(environment, 'PARLEY_TEST_JOB_KINDS') === '1',
  });
}

function readBackoffKind(environment: Environment): BackoffPolicy['kind'] {
  const value = readOptional(environment, 'JOB_BACKOFF') ?? 'exponential';
  if (value !== 'exponential' && value !== 'fixed') {
    throw new ConfigError('JOB_BACKOFF', `must be exponential or fixed, got "${value}"`);
  }
  return value;
}
