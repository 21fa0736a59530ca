import type { ChatMessage, ExecutionStatus, ExecutionStep, JsonObject, ToolCall } from '../domain/models.js';
import type { IdempotencyClaim } from '../storage/store.js';
import {
  ModelError,
  type LanguageModel,
  type ModelMessage,
  type ModelToolCall,
  type ModelUsage,
} from '../models/model-port.js';
import { estimateCost } from '../models/pricing.js';
import { idempotencyRecord } from '../storage/store.js';
import type { Tool } from '../tools/tool.js';
import { extractSuggestions } from '../features/threads/suggestions.js';
import { renderMarkdown } from './markdown.js';
import { RUN_LEASE_MS, RunStop, type RunResult, type RuntimeDependencies } from './run-agent.js';
import { toModelMessages } from './run-history.js';
import { buildSystemPrompt } from './system-prompt.js';
import { runTool } from './tool-runner.js';

export type RunOutcome = RunResult;

const HISTORY_LIMIT = 100;

export interface RunPlan {
  runId: string;
  organizationId: string;
  agent: { id: string; name: string; configuration: JsonObject };
  threadId: string;
  assistantMessageId: string;
  assistantCreatedAt: string;
  model: LanguageModel;
  tools: Tool[];
  maxSteps: number;
  startedAt: Date;
  idempotency: IdempotencyClaim | undefined;
}

interface Progress {
  text: string;
  usage: ModelUsage;
  steps: ExecutionStep[];
  toolCalls: ToolCall[];
  finishReason: string;
}

/**
 * One agent turn: history → model → tools (in parallel) → model … up to `maxSteps` model calls,
 * then one transaction that stores the reply, finishes the execution, releases the thread and
 * appends `message-end` and `run-end` (or `run-error`). Never rejects for a model or tool
 * failure: those end the run with a status.
 */
export async function executeRun(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  signal: AbortSignal;
}): Promise<RunResult> {
  const { dependencies, run, signal } = input;
  const progress: Progress = {
    text: '',
    usage: { inputTokens: 0, outputTokens: 0 },
    steps: [],
    toolCalls: [],
    finishReason: 'stop',
  };
  const lease = setInterval(() => void renewLease(dependencies, run), RUN_LEASE_MS / 3);
  let status: ExecutionStatus = 'completed';
  let error: RunResult['error'] = null;
  try {
    await loop(dependencies, run, signal, progress);
  } catch (caught) {
    ({ status, error } = classify(caught, signal));
    if (status === 'failed' && error?.code === 'internal_error') {
      dependencies.logger.error({ err: caught, runId: run.runId }, 'run failed');
    } else if (caught instanceof ModelError) {
      dependencies.logger.warn(
        { err: caught.cause ?? caught, runId: run.runId, model: run.model.id },
        'model call failed',
      );
    }
  } finally {
    clearInterval(lease);
  }
  return finish(dependencies, run, progress, status, error);
}

async function loop(
  dependencies: RuntimeDependencies,
  run: RunPlan,
  signal: AbortSignal,
  progress: Progress,
): Promise<void> {
  const { store, eventLog, clock } = dependencies;
  const history = await store.runMessages.recent({
    organizationId: run.organizationId,
    threadId: run.threadId,
    limit: HISTORY_LIMIT + 1,
  });
  const messages: ModelMessage[] = toModelMessages(
    history.filter(({ message }) => message.id !== run.assistantMessageId),
  );
  const system = buildSystemPrompt(run.agent);
  const definitions = run.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
  }));
  const temperature =
    typeof run.agent.configuration.temperature === 'number' ? run.agent.configuration.temperature : undefined;

  for (let step = 1; step <= run.maxSteps; step += 1) {
    const stepStarted = clock.now();
    let stepText = '';
    const calls: ModelToolCall[] = [];
    const stepUsage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
    for await (const part of run.model.stream({ system, messages, tools: definitions, temperature, signal })) {
      if (part.type === 'text-delta') {
        stepText += part.text;
        progress.text += part.text;
        eventLog.delta(run.threadId, 'text-delta', {
          message_id: run.assistantMessageId,
          run_id: run.runId,
          delta: part.text,
        });
      } else if (part.type === 'tool-call') {
        calls.push(part);
      } else {
        stepUsage.inputTokens += part.usage.inputTokens;
        stepUsage.outputTokens += part.usage.outputTokens;
        progress.finishReason = part.finishReason;
      }
    }
    signal.throwIfAborted();
    progress.usage.inputTokens += stepUsage.inputTokens;
    progress.usage.outputTokens += stepUsage.outputTokens;
    progress.steps.push(
      modelStep({
        step,
        started: stepStarted,
        ended: clock.now(),
        model: run.model.id,
        text: stepText,
        calls,
        usage: stepUsage,
      }),
    );
    if (calls.length === 0) return;
    if (step === run.maxSteps) {
      // The model still wants tools but the budget is spent: stop here, and say why.
      progress.finishReason = 'max_steps';
      return;
    }
    messages.push({ role: 'assistant', content: stepText, toolCalls: calls });
    const outcomes = await Promise.all(calls.map((call) => callTool(dependencies, run, call, progress, signal)));
    signal.throwIfAborted();
    messages.push(...outcomes);
  }
}

async function callTool(
  dependencies: RuntimeDependencies,
  run: RunPlan,
  call: ModelToolCall,
  progress: Progress,
  signal: AbortSignal,
): Promise<ModelMessage> {
  const { store, eventLog, clock, newId, config } = dependencies;
  const position = progress.toolCalls.length;
  const record: ToolCall = {
    tool_name: call.toolName,
    arguments: call.input,
    result: null,
    error: null,
    start_time: clock.now().toISOString(),
    end_time: null,
  };
  progress.toolCalls.push(record);
  const rowId = newId();
  const common = {
    message_id: run.assistantMessageId,
    run_id: run.runId,
    tool_call_id: call.toolCallId,
    tool_name: call.toolName,
  };
  const started = await store.write(async (writers) => {
    await writers.runMessages.startToolCall({
      id: rowId,
      organization_id: run.organizationId,
      thread_id: run.threadId,
      message_id: run.assistantMessageId,
      position,
      tool_name: call.toolName,
      arguments: JSON.stringify(call.input),
      result: null,
      error: null,
      start_time: record.start_time,
      end_time: null,
    });
    return writers.events.append({
      organizationId: run.organizationId,
      threadId: run.threadId,
      now: record.start_time,
      events: [{ type: 'tool-call-start', data: { ...common, arguments: call.input, start_time: record.start_time } }],
    });
  });
  eventLog.published(run.threadId, started ?? []);

  const outcome = await runTool({
    tool: run.tools.find((tool) => tool.name === call.toolName),
    toolName: call.toolName,
    arguments: call.input,
    timeoutMs: config.toolTimeoutMs,
    signal,
    now: () => clock.now(),
  });
  record.end_time = clock.now().toISOString();
  if (outcome.ok) record.result = outcome.result;
  else record.error = outcome.error;
  progress.steps.push(toolStep(record, call));

  const ended = await store.write(async (writers) => {
    await writers.runMessages.finishToolCall({
      organizationId: run.organizationId,
      id: rowId,
      result: outcome.ok ? JSON.stringify(outcome.result) : null,
      error: outcome.ok ? null : outcome.error,
      endTime: record.end_time!,
    });
    return writers.events.append({
      organizationId: run.organizationId,
      threadId: run.threadId,
      now: record.end_time!,
      events: [
        {
          type: 'tool-call-end',
          data: { ...common, result: record.result as JsonObject, error: record.error, end_time: record.end_time },
        },
      ],
    });
  });
  eventLog.published(run.threadId, ended ?? []);
  return {
    role: 'tool',
    toolCallId: call.toolCallId,
    toolName: call.toolName,
    result: outcome.ok ? outcome.result : outcome.error,
    isError: !outcome.ok,
  };
}

function classify(caught: unknown, signal: AbortSignal): { status: ExecutionStatus; error: RunResult['error'] } {
  const reason = signal.aborted ? signal.reason : caught;
  if (reason instanceof RunStop) {
    if (reason.reason === 'timeout')
      return { status: 'timeout', error: { code: 'run_timeout', message: reason.message } };
    return { status: 'cancelled', error: null };
  }
  if (caught instanceof ModelError)
    return { status: 'failed', error: { code: 'model_error', message: caught.message } };
  return { status: 'failed', error: { code: 'internal_error', message: 'The run failed unexpectedly' } };
}

async function finish(
  dependencies: RuntimeDependencies,
  run: RunPlan,
  progress: Progress,
  status: ExecutionStatus,
  error: RunResult['error'],
): Promise<RunResult> {
  const { store, eventLog, clock } = dependencies;
  const ended = clock.now();
  const endedText = ended.toISOString();
  const usage = {
    input_tokens: progress.usage.inputTokens,
    output_tokens: progress.usage.outputTokens,
    total_tokens: progress.usage.inputTokens + progress.usage.outputTokens,
  };
  const finishReason = status === 'completed' ? progress.finishReason : status;
  const metadata: JsonObject = {
    run_id: run.runId,
    flow_execution_id: run.runId,
    model: run.model.id,
    usage,
    finish_reason: finishReason,
    status,
    ...(error ? { error } : {}),
  };
  const { text: visibleText, suggestions } = extractSuggestions(progress.text);
  if (suggestions.length > 0) metadata.suggestions = suggestions;
  const message: ChatMessage = {
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
  const durationMs = ended.getTime() - run.startedAt.getTime();
  const costEstimate = estimateCost(run.model.id, progress.usage);
  const runEvent =
    status === 'completed' || status === 'cancelled'
      ? {
          type: 'run-end',
          data: {
            run_id: run.runId,
            status,
            finish_reason: finishReason,
            usage,
            message: message as unknown as JsonObject,
          },
        }
      : {
          type: 'run-error',
          data: { run_id: run.runId, status, error: error as JsonObject, message: message as unknown as JsonObject },
        };

  const { execution, events } = await store.write(async (writers) => {
    await writers.runMessages.finish({
      organizationId: run.organizationId,
      messageId: run.assistantMessageId,
      content: message.content,
      contentHtml: message.content_html ?? '',
      metadata: JSON.stringify(metadata),
    });
    const execution = await writers.runs.update({
      organizationId: run.organizationId,
      id: run.runId,
      changes: {
        status,
        completed_at: endedText,
        duration_ms: durationMs,
        steps: JSON.stringify(progress.steps),
        final_output: JSON.stringify({ content: message.content, message_id: message.id }),
        error_message: error?.message ?? null,
        error_details: error ? JSON.stringify({ code: error.code }) : null,
        tokens_used: usage.total_tokens,
        tool_calls_count: progress.toolCalls.length,
        cost_estimate: costEstimate,
        performance_metrics: JSON.stringify({
          duration_ms: durationMs,
          model_calls: progress.steps.filter((step) => step.step_type === 'llm').length,
          input_tokens: usage.input_tokens,
          output_tokens: usage.output_tokens,
        }),
        updated_at: endedText,
      },
    });
    await writers.threadRuns.release({ organizationId: run.organizationId, threadId: run.threadId, runId: run.runId });
    if (run.idempotency && status === 'completed') {
      await writers.idempotency.record(idempotencyRecord(run.idempotency, message, ended));
    }
    const events = await writers.events.append({
      organizationId: run.organizationId,
      threadId: run.threadId,
      now: endedText,
      events: [{ type: 'message-end', data: { message: message as unknown as JsonObject } }, runEvent],
    });
    return { execution, events: events ?? [] };
  });
  if (events.length > 0) eventLog.published(run.threadId, events);
  // The thread (or its agent) was deleted during the run: nothing could be stored, but whoever
  // follows the run still hears that it ended, so no stream waits forever.
  else eventLog.delta(run.threadId, runEvent.type, runEvent.data);
  if (!execution) throw new Error(`run ${run.runId} vanished before it finished`);
  return { status, message, execution, error };
}

async function renewLease(dependencies: RuntimeDependencies, run: RunPlan): Promise<void> {
  try {
    await dependencies.store.write((writers) =>
      writers.threadRuns.renew({
        organizationId: run.organizationId,
        threadId: run.threadId,
        runId: run.runId,
        expiresAt: new Date(dependencies.clock.now().getTime() + RUN_LEASE_MS).toISOString(),
      }),
    );
  } catch (error) {
    dependencies.logger.warn({ err: error, runId: run.runId }, 'could not renew the run lease');
  }
}

function modelStep(input: {
  step: number;
  started: Date;
  ended: Date;
  model: string;
  text: string;
  calls: ModelToolCall[];
  usage: ModelUsage;
}): ExecutionStep {
  return {
    step_id: `model-${input.step}`,
    step_name: `Model call ${input.step}`,
    step_type: 'llm',
    status: 'completed',
    started_at: input.started.toISOString(),
    tool_name: null,
    input_data: { model: input.model },
    output_data: { text: input.text, tool_calls: input.calls.map((call) => call.toolName) },
    error_message: null,
    completed_at: input.ended.toISOString(),
    duration_ms: input.ended.getTime() - input.started.getTime(),
    retry_count: 0,
    metadata: { input_tokens: input.usage.inputTokens, output_tokens: input.usage.outputTokens },
  };
}

function toolStep(record: ToolCall, call: ModelToolCall): ExecutionStep {
  return {
    step_id: `tool-${call.toolCallId}`,
    step_name: `Tool ${record.tool_name}`,
    step_type: 'tool',
    status: record.error === null ? 'completed' : 'failed',
    started_at: record.start_time,
    tool_name: record.tool_name,
    input_data: record.arguments,
    output_data: record.error === null ? { result: record.result } : {},
    error_message: record.error,
    completed_at: record.end_time,
    duration_ms: record.end_time === null ? null : Date.parse(record.end_time) - Date.parse(record.start_time),
    retry_count: 0,
    metadata: {},
  };
}
