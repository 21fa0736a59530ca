import type { ExecutionStep, JsonObject, ToolCall } from '../domain/models.js';
import type { RunToolCall, ToolCallApproval, TranscriptEntry, TranscriptToolCall } from '../domain/runs.js';
import type { NewThreadEvent } from '../domain/thread-events.js';
import type { ModelToolCall } from '../models/model-port.js';
import { holdRun } from './paused-runs.js';
import { toCheckpoint, type RunProgress } from './run-progress.js';
import type { RunPlan, RuntimeDependencies } from './run-types.js';
import { callTool, toolCallKey } from './tool-calls.js';

/**
 * The run side of tool approval (docs/adr/0015-tool-approval.md). A step whose calls include one
 * of a `requiresApproval` tool does not run any of them: each such call is stored
 * `pending_approval` with a `tool-approval-request` event, and the run stops at that step
 * (execution `pending`, the thread held), all in one transaction. Once every request is decided
 * (approval-decisions.ts) the run goes on from stored state and runs the whole step: approved
 * calls with their final arguments, rejected ones as a refusal for the model, the others as usual.
 */

/** Whether any of the step's calls needs approval first. */
export function needsApproval(run: RunPlan, calls: readonly ModelToolCall[]): boolean {
  return calls.some((call) => run.tools.some((tool) => tool.name === call.toolName && tool.requiresApproval === true));
}

/** The reply's metadata while it waits: which calls, with what arguments, until when. */
export function awaitingMetadata(run: RunPlan, pending: readonly RunToolCall[]): JsonObject {
  return {
    run_id: run.runId,
    model: run.model.id,
    status: 'awaiting_approval',
    pending_approvals: pending.map((call) => ({
      tool_call_id: call.tool_call_id,
      tool_name: call.tool_name,
      arguments: call.arguments,
      expires_at: call.approval?.expires_at ?? null,
    })),
  };
}

/** Stores the step's approval requests and stops the run there, in one transaction. */
export async function requestApprovals(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  calls: readonly ModelToolCall[];
  progress: RunProgress;
}): Promise<void> {
  const { dependencies, run, calls, progress } = input;
  const now = dependencies.clock.now();
  const requestedAt = now.toISOString();
  const expiresAt = new Date(now.getTime() + dependencies.config.toolApprovalTimeoutMs).toISOString();
  const pending = pendingCallsOf({ dependencies, run, calls, progress, requestedAt, expiresAt });
  progress.awaitingCalls = calls.map(({ toolCallId, toolName, input: arguments_ }) => ({
    toolCallId,
    toolName,
    input: arguments_,
  }));
  const events: NewThreadEvent[] = pending.map((row) => ({
    type: 'tool-approval-request',
    data: {
      ...toolCallKey(run, progress.nextStep, {
        toolCallId: row.tool_call_id,
        toolName: row.tool_name,
        input: row.arguments,
      }),
      arguments: row.arguments,
      expires_at: expiresAt,
    },
  }));
  await dependencies.eventLog.write(async ({ writers, append }) => {
    for (const row of pending) {
      await writers.runMessages.startToolCall({
        id: row.id,
        organization_id: run.organizationId,
        thread_id: run.threadId,
        message_id: run.assistantMessageId,
        position: row.position,
        tool_name: row.tool_name,
        arguments: row.arguments,
        start_time: row.start_time,
        run_id: run.runId,
        tool_call_id: row.tool_call_id,
        status: 'pending_approval',
        approval: row.approval,
      });
    }
    const metadata = awaitingMetadata(run, pending);
    await writers.runMessages.setMetadata({
      organizationId: run.organizationId,
      messageId: run.assistantMessageId,
      metadata,
    });
    const checkpoint = toCheckpoint(progress, run.assistantCreatedAt);
    const steps = [...progress.steps, ...pending.map(pendingStep)];
    await holdRun({ writers, dependencies, run, checkpoint, status: 'pending', steps });
    await append({ organizationId: run.organizationId, threadId: run.threadId, now: requestedAt, events });
  });
}

/** The step's calls that need approval, as the records they are stored as (added to the reply). */
function pendingCallsOf(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  calls: readonly ModelToolCall[];
  progress: RunProgress;
  requestedAt: string;
  expiresAt: string;
}): RunToolCall[] {
  const { run, progress, requestedAt } = input;
  return input.calls
    .filter((call) => needsApproval(run, [call]))
    .map((call) => {
      const record: ToolCall = {
        tool_name: call.toolName,
        arguments: call.input,
        result: null,
        error: null,
        start_time: requestedAt,
        end_time: null,
      };
      const approval: ToolCallApproval = {
        step: progress.nextStep,
        requested_at: requestedAt,
        expires_at: input.expiresAt,
        requested_arguments: call.input,
        decision: null,
        reason: null,
        decided_at: null,
      };
      const position = progress.toolCalls.push(record) - 1;
      const id = input.dependencies.newId();
      return {
        ...record,
        id,
        position,
        status: 'pending_approval',
        run_id: run.runId,
        tool_call_id: call.toolCallId,
        approval,
      };
    });
}

/**
 * Runs the step the run waited on, now that every approval is decided: in parallel, as any
 * step's calls, in the order the model asked for them. Returns the results for the model.
 */
export async function runAwaitedCalls(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  progress: RunProgress;
  calls: readonly TranscriptToolCall[];
  signal: AbortSignal;
}): Promise<TranscriptEntry[]> {
  const { dependencies, run, progress, signal } = input;
  const stored = await dependencies.store.runMessages.runToolCalls({
    organizationId: run.organizationId,
    runId: run.runId,
  });
  // This step's requests: a model may reuse a call id in a later step of the same run.
  const decided = new Map(
    stored.filter((call) => call.approval?.step === progress.nextStep).map((call) => [call.tool_call_id, call]),
  );
  const results = await Promise.all(
    input.calls.map((call) => {
      const request = decided.get(call.toolCallId);
      if (request?.status === 'rejected') return refusal(progress, call, request);
      return callTool({ dependencies, run, call, progress, signal, approved: request });
    }),
  );
  progress.awaitingCalls = undefined;
  return results;
}

/** What the model gets for a rejected call, which never ran: its refusal, as an error result. */
function refusal(progress: RunProgress, call: TranscriptToolCall, request: RunToolCall): TranscriptEntry {
  const error = request.error ?? 'The tool call was rejected.';
  progress.steps.push({
    ...pendingStep(request),
    status: 'cancelled',
    error_message: error,
    completed_at: request.end_time,
    duration_ms: request.end_time === null ? null : Date.parse(request.end_time) - Date.parse(request.start_time),
    metadata: { approval: 'rejected', reason: request.approval?.reason ?? null },
  });
  return { role: 'tool', toolCallId: call.toolCallId, toolName: call.toolName, result: error, isError: true };
}

/** The execution's step for a call while it waits for approval. */
function pendingStep(call: RunToolCall): ExecutionStep {
  return {
    step_id: `tool-${call.tool_call_id}`,
    step_name: `Tool ${call.tool_name}`,
    step_type: 'tool',
    status: 'pending',
    started_at: call.start_time,
    tool_name: call.tool_name,
    input_data: call.arguments,
    output_data: {},
    error_message: null,
    completed_at: null,
    duration_ms: null,
    retry_count: 0,
    metadata: { approval: 'pending', expires_at: call.approval?.expires_at ?? null },
  };
}
