import { INTERRUPTED_ERROR, type InterruptedRun } from '../domain/runs.js';
import type { WebhookPublisher } from '../webhooks/webhook-publisher.js';
import { publishExecutionEnd, publishRunEnd } from '../webhooks/webhook-events.js';
import type { EventUnit } from './event-log.js';

/**
 * Ends the runs that recovery failed, in the unit that failed them: in their threads' logs their
 * reply as it was left (`message-end`) and `run-error` with `interrupted`, so a client that
 * resumes the thread hears that the run is over instead of waiting forever; and with a webhook
 * outbox, `run.failed` and `execution.failed` as any failed run publishes. Returns the deliveries
 * made (the caller wakes the worker after the commit when there are some).
 */
export async function endInterruptedRuns(input: {
  unit: EventUnit;
  runs: readonly InterruptedRun[];
  now: string;
  webhooks?: WebhookPublisher | undefined;
}): Promise<number> {
  const { unit, now, webhooks } = input;
  let published = 0;
  for (const run of input.runs) {
    const error = { ...INTERRUPTED_ERROR };
    if (run.threadId !== null && run.reply !== null) {
      const message = run.reply;
      await unit.append({
        organizationId: run.organizationId,
        threadId: run.threadId,
        now,
        events: [
          { type: 'message-end', data: { message } },
          { type: 'run-error', data: { run_id: run.runId, status: 'failed', error, message } },
        ],
      });
    }
    if (!webhooks) continue;
    const execution = await unit.writers.runs.get({ organizationId: run.organizationId, id: run.runId });
    if (!execution) continue;
    published +=
      run.reply !== null
        ? await publishRunEnd(webhooks, unit.writers, { execution, message: run.reply, error, now })
        : await publishExecutionEnd(webhooks, unit.writers, { execution, now });
  }
  return published;
}
