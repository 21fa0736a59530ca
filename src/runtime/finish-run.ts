import { replyCitations } from '../domain/citations.js';
import type { ChatMessage, ExecutionStatus, JsonObject } from '../domain/models.js';
import { INTERRUPTED_ERROR, type RunCompletion } from '../domain/runs.js';
import type { RunUsageRecord } from '../domain/usage.js';
import { extractSuggestions } from '../domain/suggestions.js';
import type { RunEndEvent, RunError, RunUsage } from '../domain/thread-events.js';
import { ModelError } from '../models/model-port.js';
import { idempotencyRecord } from '../storage/store.js';
import { publishRunEnd } from '../webhooks/webhook-events.js';
import { renderMarkdown } from './markdown.js';
import type { RunProgress } from './run-progress.js';
import { RunStop, type RunPlan, type RunResult, type RuntimeDependencies } from './run-types.js';

/** What a run that threw ended as: stopped (cancelled, timed out), a model failure, or a bug. */
export function classify(caught: unknown, signal: AbortSignal): { status: ExecutionStatus; error: RunError | null } {
  const reason = signal.aborted ? signal.reason : caught;
  if (reason instanceof RunStop) {
    if (reason.reason === 'timeout')
      return { status: 'timeout', error: { code: 'run_timeout', message: reason.message } };
    if (reason.reason === 'interrupted') return { status: 'failed', error: { ...INTERRUPTED_ERROR } };
    return { status: 'cancelled', error: null };
  }
  if (caught instanceof ModelError)
    return { status: 'failed', error: { code: 'model_error', message: caught.message } };
  return { status: 'failed', error: { code: 'internal_error', message: 'The run failed unexpectedly' } };
}

/**
 * The end of a run, in one transaction: the reply's final text, the execution's outcome, the
 * thread released, the Idempotency-Key's record (a completed reply only), and `message-end` with
 * `run-end` (or `run-error`).
 */
export async function finishRun(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  progress: RunProgress;
  status: ExecutionStatus;
  error: RunError | null;
}): Promise<RunResult> {
  const { dependencies, run, progress, status, error } = input;
  const ended = dependencies.clock.now();
  const usage = usageOf(progress);
  // The price at the time of the run: a later change of MODEL_PRICING does not rewrite history.
  const cost = dependencies.pricing.costOf(run.model.id, progress.usage);
  const finishReason = status === 'completed' ? progress.finishReason : status;
  const message = finalMessage({ run, progress, usage, cost, finishReason, status, error });
  const runEvent: RunEndEvent =
    error === null
      ? { type: 'run-end', data: { run_id: run.runId, status, finish_reason: finishReason, usage, message } }
      : { type: 'run-error', data: { run_id: run.runId, status, error, message } };
  const key = { organizationId: run.organizationId, threadId: run.threadId };

  const outcome = await dependencies.eventLog.write(async ({ writers, append }) => {
    // Only a run still running is ended here. Recovery may have failed it meanwhile (other
    // processes took this one for dead): its end is then in the log already, and stays the only one.
    const execution = await writers.runs.update({
      organizationId: run.organizationId,
      id: run.runId,
      changes: completionOf({ run, progress, status, error, message, ended, cost }),
      whileRunning: true,
    });
    if (!execution) return null;
    await writers.usage.record(usageRecordOf({ run, usage, cost, status, ended }));
    await writers.runMessages.finish({
      organizationId: run.organizationId,
      messageId: run.assistantMessageId,
      content: message.content,
      contentHtml: message.content_html ?? '',
      metadata: message.metadata,
    });
    await writers.threadRuns.release({ ...key, runId: run.runId });
    if (run.idempotency && status === 'completed') {
      await writers.idempotency.record(idempotencyRecord(run.idempotency, message, ended));
    }
    const now = ended.toISOString();
    const events = await append({ ...key, now, events: [{ type: 'message-end', data: { message } }, runEvent] });
    const { webhooks } = dependencies;
    const published = webhooks ? await publishRunEnd(webhooks, writers, { execution, message, error, now }) : 0;
    return { execution, stored: events !== null, published };
  });
  if (outcome === null) return endedElsewhere({ dependencies, run, runEvent, message });
  if (outcome.published > 0) dependencies.webhooks?.wake();
  // The thread was deleted during the run: nothing could be stored, but whoever follows the run
  // still hears that it ended, so no stream waits forever.
  if (!outcome.stored) dependencies.eventLog.announce(run.threadId, runEvent);
  return { status, message, execution: outcome.execution, error };
}

/**
 * A run that was no longer running when it ended: recovery failed it (the only writer that
 * ends another process's run), or it was deleted with its agent.
 */
async function endedElsewhere(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  runEvent: RunEndEvent;
  message: ChatMessage;
}): Promise<RunResult> {
  const { dependencies, run } = input;
  const key = { organizationId: run.organizationId };
  const execution = await dependencies.store.runs.get({ ...key, id: run.runId });
  if (!execution) {
    dependencies.eventLog.announce(run.threadId, input.runEvent);
    throw new Error(`run ${run.runId} vanished before it finished`);
  }
  const stored = await dependencies.store.messages.get({ ...key, id: run.assistantMessageId });
  return { status: execution.status, message: stored ?? input.message, execution, error: { ...INTERRUPTED_ERROR } };
}

/** The run's line in the usage ledger (docs/usage.md): what quotas and the usage report count. */
function usageRecordOf(input: {
  run: RunPlan;
  usage: RunUsage;
  cost: number | null;
  status: ExecutionStatus;
  ended: Date;
}): RunUsageRecord {
  const { run, usage } = input;
  return {
    run_id: run.runId,
    organization_id: run.organizationId,
    agent_id: run.agent.id,
    thread_id: run.threadId,
    message_id: run.assistantMessageId,
    model: run.model.id,
    status: input.status,
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cost: input.cost,
    started_at: run.startedAt.toISOString(),
    ended_at: input.ended.toISOString(),
  };
}

function usageOf(progress: RunProgress): RunUsage {
  const { inputTokens, outputTokens } = progress.usage;
  return { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
}

/**
 * The reply as stored: its text, the tools it used, and how its run went (in metadata), with the
 * passages its knowledge searches found (`citations`).
 */
function finalMessage(input: {
  run: RunPlan;
  progress: RunProgress;
  usage: RunUsage;
  cost: number | null;
  finishReason: string;
  status: ExecutionStatus;
  error: RunError | null;
}): ChatMessage {
  const { run, progress, error } = input;
  const metadata: JsonObject = {
    run_id: run.runId,
    flow_execution_id: run.runId,
    model: run.model.id,
    usage: input.usage,
    // USD from the pricing table; null when the model has no price (docs/usage.md).
    cost_estimate: input.cost,
    finish_reason: input.finishReason,
    status: input.status,
    ...(error ? { error } : {}),
  };
  const { text: visibleText, suggestions } = extractSuggestions(progress.text);
  if (suggestions.length > 0) metadata.suggestions = suggestions;
  const citingTools = new Set(run.tools.flatMap((tool) => (tool.citesSources === true ? [tool.name] : [])));
  const citations = replyCitations({ toolCalls: progress.toolCalls, citingTools });
  if (citations.length > 0) metadata.citations = citations;
  return {
    id: run.assistantMessageId,
    thread_id: run.threadId,
    content: progress.text,
    content_html: renderMarkdown(visibleText),
    role: 'assistant',
    tool_calls: progress.toolCalls,
    attachments: [],
    metadata,
    created_at: run.assistantCreatedAt,
    feedback: null,
  };
}

function completionOf(input: {
  run: RunPlan;
  progress: RunProgress;
  status: ExecutionStatus;
  error: RunError | null;
  message: ChatMessage;
  ended: Date;
  cost: number | null;
}): RunCompletion {
  const { run, progress, error, ended } = input;
  const usage = usageOf(progress);
  const durationMs = ended.getTime() - run.startedAt.getTime();
  return {
    status: input.status,
    completed_at: ended.toISOString(),
    duration_ms: durationMs,
    steps: progress.steps,
    final_output: { content: input.message.content, message_id: input.message.id },
    error_message: error?.message ?? null,
    error_details: error ? { code: error.code } : null,
    tokens_used: usage.total_tokens,
    tool_calls_count: progress.toolCalls.length,
    cost_estimate: input.cost,
    performance_metrics: {
      duration_ms: durationMs,
      model_calls: progress.steps.filter((step) => step.step_type === 'llm').length,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
    },
    updated_at: ended.toISOString(),
  };
}
