import { citationsOfResult, type Citation } from '../domain/citations.js';
import type { ToolCall } from '../domain/models.js';
import { storableJson, storableText } from '../domain/storable-text.js';
import type { RunToolCall, TranscriptEntry } from '../domain/runs.js';
import type { ToolCallEventKey } from '../domain/thread-events.js';
import type { ModelToolCall } from '../models/model-port.js';
import type { RunProgress } from './run-progress.js';
import { toolStep } from './run-progress.js';
import type { RunPlan, RuntimeDependencies } from './run-types.js';
import { boundedError, modelResult, storedResult } from './tool-results.js';
import { runTool } from './tool-runner.js';
import type { Tool } from '../tools/tool.js';
import { NO_TELEMETRY, traceToolCall } from '../observability/run-telemetry.js';

/**
 * One tool call of a run, persisted as it happens: the record and `tool-call-start` before the
 * tool runs, its result (or error) and `tool-call-end` after. A failing tool is an error result
 * for the model, never a failed run. `approved`: the stored record of a call that waited for
 * approval and got it; it runs with the arguments it was approved with. The result is stored
 * and sent to the model bounded (tool-results.ts).
 */
export async function callTool(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  call: ModelToolCall;
  progress: RunProgress;
  signal: AbortSignal;
  approved?: RunToolCall | undefined;
}): Promise<TranscriptEntry> {
  const { dependencies, run, call, progress, approved } = input;
  const { clock } = dependencies;
  const started = clock.now().toISOString();
  const stored = approved
    ? approvedRecord(progress, approved, started)
    : newRecord(dependencies, progress, call, started);
  const { record } = stored;
  const key = toolCallKey(run, progress.nextStep, call);
  await recordStart(dependencies, run, stored, key);

  const tool = run.tools.find((candidate) => candidate.name === call.toolName);
  const { ok, forModel } = await runRecordedCall({
    dependencies,
    tool,
    record,
    toolCallId: call.toolCallId,
    signal: input.signal,
  });
  const outcome = { ok };
  const step = toolStep(record, call.toolCallId);
  if (approved) step.metadata = { approval: 'approved' };
  progress.steps.push(step);
  // The passages a knowledge search found stream as they are found; the reply's metadata lists
  // them again at the end (finish-run.ts), from the stored results.
  const citations = outcome.ok && tool?.citesSources === true ? citationsOfResult(record.result) : [];
  await recordEnd(dependencies, run, stored, {
    ...key,
    ...(approved ? { approval: 'approved' as const } : {}),
    ...(citations.length > 0 ? { citations } : {}),
  });
  return { role: 'tool', toolCallId: call.toolCallId, toolName: call.toolName, result: forModel, isError: !outcome.ok };
}

/**
 * Runs the call `record` describes and writes its end, result or error into it, bounded as the
 * store keeps it; `forModel` is what the model gets back (bounded too). Shared by chat runs and
 * flows' executions, which keep their records apart. Traced as `execute_tool <name>` and
 * counted by kind and outcome (docs/observability.md).
 */
export async function runRecordedCall(input: {
  dependencies: Pick<RuntimeDependencies, 'clock' | 'config' | 'telemetry' | 'logger'>;
  tool: Tool | undefined;
  record: ToolCall;
  toolCallId?: string | undefined;
  signal: AbortSignal;
}): Promise<{ ok: boolean; forModel: unknown }> {
  const { clock, config, logger } = input.dependencies;
  const { record } = input;
  const ended: { ok: boolean; forModel: unknown } = { ok: false, forModel: null };
  const kind = input.tool?.kind ?? 'built_in';
  const traced = { toolName: record.tool_name, toolCallId: input.toolCallId, kind };
  await traceToolCall(input.dependencies.telemetry ?? NO_TELEMETRY, traced, async () => {
    const outcome = await runTool({
      tool: input.tool,
      toolName: record.tool_name,
      arguments: record.arguments,
      timeoutMs: config.toolTimeoutMs,
      signal: input.signal,
      now: () => clock.now(),
    });
    record.end_time = clock.now().toISOString();
    if (outcome.ok) {
      record.result = storableJson(storedResult(outcome.result, outcome.json, config.toolResultMaxBytes));
      ended.ok = true;
      ended.forModel = storableJson(modelResult(outcome.result, outcome.json, config.toolResultModelBytes));
    } else {
      record.error = storableText(boundedError(outcome.error, config.toolResultModelBytes));
      ended.forModel = record.error;
    }
    return { ok: ended.ok, error: record.error };
  });
  logger.debug({ tool: record.tool_name, kind, ok: ended.ok }, 'tool call ended');
  return ended;
}

/** The key every event of one call carries. */
export function toolCallKey(run: RunPlan, step: number, call: ModelToolCall): ToolCallEventKey {
  return {
    message_id: run.assistantMessageId,
    run_id: run.runId,
    step,
    tool_call_id: call.toolCallId,
    tool_name: call.toolName,
  };
}

interface StoredCall {
  id: string;
  position: number;
  record: ToolCall;
  /** Whether its row exists already (an approved call's does). */
  existing: boolean;
}

function newRecord(
  dependencies: RuntimeDependencies,
  progress: RunProgress,
  call: ModelToolCall,
  started: string,
): StoredCall {
  const record: ToolCall = {
    tool_name: call.toolName,
    arguments: call.input,
    result: null,
    error: null,
    start_time: started,
    end_time: null,
  };
  const position = progress.toolCalls.push(record) - 1;
  return { id: dependencies.newId(), position, record, existing: false };
}

/** The reply's record of an approved call (read back from the store on resume), starting now. */
function approvedRecord(progress: RunProgress, approved: RunToolCall, started: string): StoredCall {
  const record: ToolCall = {
    tool_name: approved.tool_name,
    arguments: approved.arguments,
    result: null,
    error: null,
    start_time: started,
    end_time: null,
  };
  progress.toolCalls[approved.position] = record;
  return { id: approved.id, position: approved.position, record, existing: true };
}

async function recordStart(
  dependencies: RuntimeDependencies,
  run: RunPlan,
  { id, position, record, existing }: StoredCall,
  key: ToolCallEventKey,
): Promise<void> {
  await dependencies.eventLog.write(async ({ writers, append }) => {
    const organizationId = run.organizationId;
    if (existing) {
      await writers.runMessages.startApprovedToolCall({ organizationId, id, startTime: record.start_time });
    } else {
      await writers.runMessages.startToolCall({
        id,
        organization_id: organizationId,
        thread_id: run.threadId,
        message_id: run.assistantMessageId,
        position,
        tool_name: record.tool_name,
        arguments: record.arguments,
        start_time: record.start_time,
        run_id: run.runId,
        tool_call_id: key.tool_call_id,
        status: 'running',
        approval: null,
      });
    }
    const data = { ...key, arguments: record.arguments, start_time: record.start_time };
    const log = { organizationId, threadId: run.threadId, now: record.start_time };
    await append({ ...log, events: [{ type: 'tool-call-start', data }] });
  });
}

async function recordEnd(
  dependencies: RuntimeDependencies,
  run: RunPlan,
  { id, record }: StoredCall,
  key: ToolCallEventKey & { approval?: 'approved'; citations?: Citation[] },
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
