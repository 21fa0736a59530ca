import type { ToolCall } from '../domain/models.js';
import type { TranscriptEntry } from '../domain/runs.js';
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
  const { eventLog, clock, newId, config } = dependencies;
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
  const id = newId();
  const key = {
    message_id: run.assistantMessageId,
    run_id: run.runId,
    tool_call_id: call.toolCallId,
    tool_name: call.toolName,
  };
  const log = { organizationId: run.organizationId, threadId: run.threadId };
  await eventLog.write(async ({ writers, append }) => {
    await writers.runMessages.startToolCall({
      id,
      organization_id: run.organizationId,
      thread_id: run.threadId,
      message_id: run.assistantMessageId,
      position,
      tool_name: call.toolName,
      arguments: call.input,
      start_time: record.start_time,
    });
    const data = { ...key, arguments: call.input, start_time: record.start_time };
    await append({ ...log, now: record.start_time, events: [{ type: 'tool-call-start', data }] });
  });

  const outcome = await runTool({
    tool: run.tools.find((tool) => tool.name === call.toolName),
    toolName: call.toolName,
    arguments: call.input,
    timeoutMs: config.toolTimeoutMs,
    signal: input.signal,
    now: () => clock.now(),
  });
  const endTime = clock.now().toISOString();
  record.end_time = endTime;
  if (outcome.ok) record.result = outcome.result;
  else record.error = outcome.error;
  progress.steps.push(toolStep(record, call.toolCallId));

  await eventLog.write(async ({ writers, append }) => {
    await writers.runMessages.finishToolCall({
      organizationId: run.organizationId,
      id,
      result: record.result,
      error: record.error,
      endTime,
    });
    const data = { ...key, result: record.result, error: record.error, end_time: endTime };
    await append({ ...log, now: endTime, events: [{ type: 'tool-call-end', data }] });
  });
  return {
    role: 'tool',
    toolCallId: call.toolCallId,
    toolName: call.toolName,
    result: outcome.ok ? outcome.result : outcome.error,
    isError: !outcome.ok,
  };
}
