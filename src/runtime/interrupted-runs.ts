import { INTERRUPTED_ERROR, type InterruptedRun } from '../domain/runs.js';
import type { EventUnit } from './event-log.js';

/**
 * Ends in their threads' logs the runs that recovery failed: their reply as it was left
 * (`message-end`) and `run-error` with `interrupted`, so a client that resumes the thread hears
 * that the run is over instead of waiting forever. Appended in the unit that failed them.
 */
export async function endInterruptedRuns(
  append: EventUnit['append'],
  runs: readonly InterruptedRun[],
  now: string,
): Promise<void> {
  for (const run of runs) {
    if (run.threadId === null || run.reply === null) continue;
    const message = run.reply;
    const error = { ...INTERRUPTED_ERROR };
    await append({
      organizationId: run.organizationId,
      threadId: run.threadId,
      now,
      events: [
        { type: 'message-end', data: { message } },
        { type: 'run-error', data: { run_id: run.runId, status: 'failed', error, message } },
      ],
    });
  }
}
