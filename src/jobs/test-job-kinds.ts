import type { Clock } from '../ids.js';
import type { Store } from '../storage/store.js';
import type { JobHandler } from './job-handler.js';

/** The test-only kind (PARLEY_TEST_JOB_KINDS=1): never registered otherwise, and no route enqueues it. */
export const TEST_JOB_KIND = 'test_record';

interface TestPayload {
  /** How long the attempt works (abortable). */
  sleep_ms?: number;
  /** Attempts up to this number throw (an unexpected error). */
  fail_attempts?: number;
}

/**
 * A handler for crash and load tests: records each start (its own commit) and the completion (in
 * the transaction that ends the job, so only an attempt that still holds the lease records it)
 * in `job_test_runs`. Counting the rows shows whether a job ran twice at once or completed twice.
 * Registered only when `PARLEY_TEST_JOB_KINDS=1` (docs/jobs.md); nothing in the API enqueues it.
 */
export function testJobHandler(input: { store: Store; clock: Clock }): JobHandler {
  const now = () => input.clock.now().toISOString();
  return {
    kind: TEST_JOB_KIND,
    async run(job, context) {
      const payload = job.payload as TestPayload;
      const record = { jobId: job.id, owner: context.owner, leaseToken: job.lease_token };
      await input.store.write((writers) => writers.jobTestRuns.record({ ...record, event: 'start', now: now() }));
      if (job.attempts <= (payload.fail_attempts ?? 0)) throw new Error(`test failure of attempt ${job.attempts}`);
      if (payload.sleep_ms) await abortableSleep(payload.sleep_ms, context.signal);
      return {
        status: 'succeeded',
        errorMessage: null,
        commit: (writers) => writers.jobTestRuns.record({ ...record, event: 'complete', now: now() }),
      };
    },
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
