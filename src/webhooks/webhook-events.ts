import type { ChatMessage, FlowExecution, JsonObject } from '../domain/models.js';
import type { RunError } from '../domain/thread-events.js';
import type { StoreWriters } from '../storage/store.js';
import type { WebhookEvent, WebhookPublisher } from './webhook-publisher.js';

/**
 * The payloads of the events that end runs and executions (docs/webhooks.md, "Events"), published
 * in the transaction that ends them. Flow executions (another branch) publish through
 * `publishExecutionEnd` when they end; chat runs, which are executions too, through `publishRunEnd`.
 */

/** An execution as its events carry it: the stored execution without its steps (which can be large). */
export function executionEventData(execution: FlowExecution): JsonObject {
  return {
    execution_id: execution.id,
    flow_id: execution.flow_id,
    agent_id: execution.agent_id,
    thread_id: execution.thread_id,
    message_id: execution.message_id,
    execution_number: execution.execution_number,
    trigger_type: execution.trigger_type,
    status: execution.status,
    started_at: execution.started_at,
    completed_at: execution.completed_at,
    duration_ms: execution.duration_ms,
    tokens_used: execution.tokens_used,
    tool_calls_count: execution.tool_calls_count,
    cost_estimate: execution.cost_estimate,
    error_message: execution.error_message,
    error_details: execution.error_details,
  };
}

/** Statuses that end an execution, and the event each publishes. */
const EXECUTION_END_EVENTS: Readonly<Record<string, string>> = {
  completed: 'execution.completed',
  failed: 'execution.failed',
  cancelled: 'execution.cancelled',
  timeout: 'execution.timeout',
};

/** `execution.<status>` for an execution that ended; none for one still going. Returns the deliveries made. */
export async function publishExecutionEnd(
  publisher: WebhookPublisher,
  writers: StoreWriters,
  input: { execution: FlowExecution; now: string },
): Promise<number> {
  const event = executionEndEvent(input);
  return event ? (await publisher.publish(writers, event)).length : 0;
}

/**
 * A chat run's end: `run.completed` (or `run.failed` for a failed or timed-out run; a cancelled
 * run publishes no run event) with the reply, and its execution's `execution.<status>`.
 */
export async function publishRunEnd(
  publisher: WebhookPublisher,
  writers: StoreWriters,
  input: { execution: FlowExecution; message: ChatMessage; error: RunError | null; now: string },
): Promise<number> {
  const { execution } = input;
  const events: WebhookEvent[] = [];
  const type = RUN_END_EVENTS[execution.status];
  if (type !== undefined) {
    const data: JsonObject = {
      run_id: execution.id,
      agent_id: execution.agent_id,
      thread_id: execution.thread_id,
      status: execution.status,
      error: input.error ? { code: input.error.code, message: input.error.message } : null,
      message: { id: input.message.id, content: input.message.content, metadata: input.message.metadata },
    };
    events.push({ organizationId: execution.organization_id, type, data, now: input.now });
  }
  const executionEvent = executionEndEvent(input);
  if (executionEvent) events.push(executionEvent);
  return (await publisher.publishAll(writers, events)).length;
}

const RUN_END_EVENTS: Readonly<Record<string, string>> = {
  completed: 'run.completed',
  failed: 'run.failed',
  timeout: 'run.failed',
};

function executionEndEvent(input: { execution: FlowExecution; now: string }): WebhookEvent | null {
  const type = EXECUTION_END_EVENTS[input.execution.status];
  if (type === undefined) return null;
  return {
    organizationId: input.execution.organization_id,
    type,
    data: executionEventData(input.execution),
    now: input.now,
  };
}
