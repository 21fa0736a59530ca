import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../ids.js';
import { RetentionSweep } from '../storage/retention-sweep.js';
import type { Store } from '../storage/store.js';

export { RETENTION_BATCH } from '../storage/retention-sweep.js';

/**
 * Deletes finished jobs (succeeded, failed, cancelled) older than `JOB_RETENTION_HOURS`
 * (0: never). Queued and running jobs are never touched.
 */
export function jobRetention(input: {
  store: Store;
  clock: Clock;
  retentionHours: number;
  log: FastifyBaseLogger;
}): RetentionSweep {
  return new RetentionSweep({
    what: 'finished jobs',
    store: input.store,
    clock: input.clock,
    maxAgeMs: input.retentionHours * 3_600_000,
    trim: (writers, window) => writers.jobs.trimFinished(window),
    log: input.log,
  });
}
