import type { JsonObject } from '../domain/models.js';
import type { RunToolCall, ToolCallApproval } from '../domain/runs.js';
import { storableJson, storableText } from '../domain/storable-text.js';
import { AppError, validationError } from '../errors.js';
import { awaitingMetadata } from './approval-requests.js';
import { claimPausedRun, loadPausedRun, progressOf } from './paused-runs.js';
import type { EventUnit } from './event-log.js';
import type { RunProgress } from './run-progress.js';
import type { RunPlan, RuntimeDependencies } from './run-types.js';
import { argumentProblems } from './tool-runner.js';
import type { IdempotencyClaim } from '../storage/store.js';

/** A decision on one pending call. `expired`: the sweep's (or a late decision's) rejection. */
export type ToolCallDecision =
  | { kind: 'approve'; arguments?: JsonObject | undefined }
  | { kind: 'reject'; reason?: string | undefined; expired?: boolean };

export interface DecisionInput {
  organizationId: string;
  /** The path's agent and thread; absent for the sweep, which starts from the run. */
  agentId?: string;
  threadId?: string;
  runId: string;
  toolCallId: string;
  decision: ToolCallDecision;
  /** The request's Idempotency-Key: its answer is recorded with the decision. */
  idempotency?: IdempotencyClaim | undefined;
}

export interface DecisionOutcome {
  run_id: string;
  tool_call_id: string;
  decision: 'approved' | 'rejected';
  /** `running` when this decision was the last one the run waited for, else still `pending`. */
  run_status: 'running' | 'pending';
  /** Set when the run goes on: what to launch. */
  resumed: { plan: RunPlan; progress: RunProgress } | null;
  /**
   * The decision came after the deadline: the call was rejected as expired instead (the caller
   * launches `resumed`, then answers 409 `tool_approval_expired`).
   */
  late: boolean;
}

/** The reason stored (and shown to the model) for a request nobody answered in time. */
export const EXPIRED_REASON = 'expired';

/**
 * Decides one pending call, in any process. 404 `run_not_found` / `tool_call_not_found` (another
 * organisation's run included); 409 `tool_call_already_decided` for a second decision; a
 * decision that comes after the deadline rejects the call as expired, as the sweep would, and
 * says so with `late`; 422 for edited arguments the tool's input schema refuses —
 * nothing changes then. The decision, the refusal's `tool-call-end` and — when it was the last
 * one pending — taking the run back happen in one transaction, so a crash leaves either nothing
 * or a run that recovery can see.
 */
export async function decideToolCall(
  dependencies: RuntimeDependencies,
  input: DecisionInput,
): Promise<DecisionOutcome> {
  const { store, clock } = dependencies;
  const execution = await store.runs.get({ organizationId: input.organizationId, id: input.runId });
  const belongs =
    execution !== null &&
    (input.agentId === undefined || execution.agent_id === input.agentId) &&
    (input.threadId === undefined || execution.thread_id === input.threadId);
  if (!belongs) throw new AppError('run_not_found');
  const calls = await store.runMessages.runToolCalls({ organizationId: input.organizationId, runId: input.runId });
  const call = calls.filter((each) => each.tool_call_id === input.toolCallId && each.approval !== null).at(-1);
  if (!call?.approval) throw new AppError('tool_call_not_found');
  if (call.status !== 'pending_approval') throw new AppError('tool_call_already_decided');
  const { decision } = input;
  const expiry = decision.kind === 'reject' && decision.expired === true;
  const lateDecision = !expiry && clock.now().getTime() >= Date.parse(call.approval.expires_at);
  if (lateDecision) {
    const expired = { kind: 'reject' as const, reason: EXPIRED_REASON, expired: true };
    const outcome = await decideToolCall(dependencies, { ...input, decision: expired, idempotency: undefined });
    return { ...outcome, late: true };
  }
  const { plan, checkpoint } = await loadPausedRun(dependencies, { ...input, status: 'pending' }).catch(
    (error: unknown) => {
      // The call waits but its run does not (it was failed or cancelled meanwhile).
      throw error instanceof AppError && error.code === 'run_not_found' ? new AppError('run_not_active') : error;
    },
  );
  const finalArguments = decision.kind === 'approve' ? checkedArguments(plan, call, decision.arguments) : null;
  const answer = (resumed: boolean) => ({
    run_id: input.runId,
    tool_call_id: input.toolCallId,
    decision: decision.kind === 'approve' ? ('approved' as const) : ('rejected' as const),
    run_status: resumed ? ('running' as const) : ('pending' as const),
  });
  const resumed = await record({
    dependencies,
    plan,
    call,
    decision,
    finalArguments,
    idempotency: input.idempotency,
    answer,
  });
  return {
    ...answer(resumed),
    resumed: resumed ? { plan, progress: await progressOf(dependencies, plan, checkpoint) } : null,
    late: false,
  };
}

/** The arguments the call runs with: the edited ones when given, which the tool's schema must accept. */
function checkedArguments(plan: RunPlan, call: RunToolCall, edited: JsonObject | undefined): JsonObject {
  if (edited === undefined) return call.arguments;
  const tool = plan.tools.find((each) => each.name === call.tool_name);
  const problems = tool ? argumentProblems(tool, edited) : [];
  if (problems.length > 0) {
    throw validationError(['body', 'arguments'], `Invalid arguments for ${call.tool_name}: ${problems.join('; ')}`);
  }
  return storableJson(edited);
}

/** The refusal a rejected call's record carries, which the model gets as its result. */
export function refusalText(decision: { reason?: string | undefined; expired?: boolean }): string {
  if (decision.expired === true)
    return 'Rejected: nobody approved this tool call in time (its approval request expired).';
  const reason = decision.reason?.trim() ?? '';
  return reason === '' ? 'Rejected by the user.' : `Rejected by the user: ${reason}`;
}

/** The decision's transaction; true when it took the run back (the last pending call of its step). */
async function record(input: {
  dependencies: RuntimeDependencies;
  plan: RunPlan;
  call: RunToolCall;
  decision: ToolCallDecision;
  finalArguments: JsonObject | null;
  idempotency: IdempotencyClaim | undefined;
  /** The route's answer, recorded under the Idempotency-Key. */
  answer: (resumed: boolean) => unknown;
}): Promise<boolean> {
  const { dependencies, plan, call, decision } = input;
  const now = dependencies.clock.now().toISOString();
  const approval: ToolCallApproval = {
    ...call.approval!,
    decision: decision.kind === 'approve' ? 'approved' : 'rejected',
    reason: decision.kind === 'reject' ? storableText(decision.reason?.trim() || '') || null : null,
    decided_at: now,
  };
  const error = decision.kind === 'reject' ? storableText(refusalText(decision)) : null;
  return dependencies.eventLog.write(
    async ({ writers, append }) => {
      const key = { organizationId: plan.organizationId, id: plan.runId, now };
      if (!(await writers.runs.lockWaiting(key))) throw new AppError('run_not_active');
      const decided = await writers.runMessages.decideToolCall({
        organizationId: plan.organizationId,
        id: call.id,
        approval,
        outcome:
          error === null
            ? { status: 'running', arguments: input.finalArguments ?? call.arguments }
            : { status: 'rejected', error, endTime: now },
      });
      if (!decided) throw new AppError('tool_call_already_decided');
      if (error !== null) await appendRefusal({ append, plan, call, step: approval.step, error, now });
      return goOnIfDecided({ writers, dependencies, plan });
    },
    { idempotency: input.idempotency, replayBody: input.answer },
  );
}

/** The `tool-call-end` of a rejected call: it ends here, without ever starting. */
async function appendRefusal(input: {
  append: EventUnit['append'];
  plan: RunPlan;
  call: RunToolCall;
  step: number;
  error: string;
  now: string;
}): Promise<void> {
  const { plan, call, now } = input;
  const data = {
    message_id: plan.assistantMessageId,
    run_id: plan.runId,
    step: input.step,
    tool_call_id: call.tool_call_id,
    tool_name: call.tool_name,
    result: null,
    error: input.error,
    end_time: now,
    approval: 'rejected' as const,
  };
  await input.append({
    organizationId: plan.organizationId,
    threadId: plan.threadId,
    now,
    events: [{ type: 'tool-call-end', data }],
  });
}

/**
 * Inside the decision's unit: while calls still wait the reply lists them; when none does, the
 * run is taken back for this process (true) and its reply is in progress again.
 */
async function goOnIfDecided(input: {
  writers: EventUnit['writers'];
  dependencies: RuntimeDependencies;
  plan: RunPlan;
}): Promise<boolean> {
  const { writers, plan } = input;
  const organizationId = plan.organizationId;
  const messageId = plan.assistantMessageId;
  const pending = await writers.runMessages.pendingApprovalCalls({ organizationId, runId: plan.runId });
  if (pending.length > 0) {
    await writers.runMessages.setMetadata({ organizationId, messageId, metadata: awaitingMetadata(plan, pending) });
    return false;
  }
  const claimed = await claimPausedRun({ writers, dependencies: input.dependencies, plan, status: 'pending' });
  if (!claimed) throw new AppError('run_not_active');
  const metadata = { run_id: plan.runId, model: plan.model.id, status: 'in_progress' };
  await writers.runMessages.setMetadata({ organizationId, messageId, metadata });
  return true;
}
