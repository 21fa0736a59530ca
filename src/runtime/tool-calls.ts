import type { ToolCall } from '../domain/models.js';
import { storableJson, storableText } from '../domain/storable-text.js';
import type { TranscriptEntry } from '../domain/runs.js';
import type { ToolCallEventKey } from '../domain/thread-events.js';
import type { ModelToolCall } from '../models/model-port.js';
import type { RunProgress } from './run-progress.js';
import { toolStep } from './run-progress.js';
import type { RunPlan, RuntimeDependencies } from './run-types.js';
import { runTool } from './tool-runner.js';

/**
 * One tool call of a run, persisted as it happens: the record and `tool-call-start` before the
 * tool runs, its result (or error) and `tool-call-end` after. A failing tool is an error result
 * for the model, never a failed run.
 */
export async function callTool(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  call: ModelToolCall;
  progress: RunProgress;
  signal: AbortSignal;
}): Promise<TranscriptEntry> {
  const { dependencies, run, call, progress } = input;
  const { clock, config } = dependencies;
  const record: ToolCall = {
    tool_name: call.toolName,
    arguments: call.input,
    result: null,
    error: null,
    start_time: clock.now().toISOString(),
    end_time: null,
  };
  const position = progress.toolCalls.push(record) - 1;
  const stored = { id: dependencies.newId(), position, record };
  const key = {
    message_id: run.assistantMessageId,
    run_id: run.runId,
    step: progress.nextStep,
    tool_call_id: call.toolCallId,
    tool_name: call.toolName,
  };
  await recordStart(dependencies, run, stored, key);

  const outcome = await runTool({
    tool: run.tools.find((tool) => tool.name === call.toolName),
    toolName: call.toolName,
    arguments: call.input,
    timeoutMs: config.toolTimeoutMs,
    signal: input.signal,
    now: () => clock.now(),
  });
  record.end_time = clock.now().toISOString();
  if (outcome.ok) record.result = storableJson(outcome.result);
  else record.error = storableText(outcome.error);
  progress.steps.push(toolStep(record, call.toolCallId));
  await recordEnd(dependencies, run, stored, key);
  return {
    role: 'tool',
    toolCallId: call.toolCallId,
    toolName: call.toolName,
    result: outcome.ok ? record.result : (record.error ?? ''),
    isError: !outcome.ok,
  };
}

interface StoredCall {
  id: string;
  position: number;
  record: ToolCall;
}

async function recordStart(
  dependencies: RuntimeDependencies,
  run: RunPlan,
  { id, position, record }: StoredCall,
  key: ToolCallEventKey,
): Promise<void> {
  await dependencies.eventLog.write(async ({ writers, append }) => {
    await writers.runMessages.startToolCall({
      id,
      organization_id: run.organizationId,
      thread_id: run.threadId,
      message_id: run.assistantMessageId,
      position,
      tool_name: record.tool_name,
      arguments: record.arguments,
      start_time: record.start_time,
    });
    const data = { ...key, arguments: record.arguments, start_time: record.start_time };
    const log = { organizationId: run.organizationId, threadId: run.threadId, now: record.start_time };
    await append({ ...log, events: [{ type: 'tool-call-start', data }] });
  });
}

async function recordEnd(
  dependencies: RuntimeDependencies,
  run: RunPlan,
  { id, record }: StoredCall,
  key: ToolCallEventKey,
): Promise<void> {
  const endTime = record.end_time ?? dependencies.clock.now().toISOString();
  await dependencies.eventLog.write(async ({ writers, append }) => {
    const { result, error } = record;
    await writers.runMessages.finishToolCall({ organizationId: run.organizationId, id, result, error, endTime });
    const data = { ...key, result, error, end_time: endTime };
    const log = { organizationId: run.organizationId, threadId: run.threadId, now: endTime };
    await append({ ...log, events: [{ type: 'tool-call-end', data }] });
  });
}
