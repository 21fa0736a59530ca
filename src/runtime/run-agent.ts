import { ModelError } from '../models/model-port.js';
import { classify, finishRun } from './finish-run.js';
import { runSteps } from './model-loop.js';
import { openRun, type RunRequest } from './open-run.js';
import { pauseRun, takeBackPausedRun } from './paused-runs.js';
import { endInterruptedRuns } from './interrupted-runs.js';
import { decideToolCall, EXPIRED_REASON, type DecisionInput, type DecisionOutcome } from './approval-decisions.js';
import { AppError } from '../errors.js';
import type { RunRecovery } from './process-liveness.js';
import type { DeadProcess } from '../domain/processes.js';
import { freshProgress, type RunProgress } from './run-progress.js';
import { openRunScope } from './run-scope.js';
import {
  RUN_LEASE_MS,
  RunStop,
  type RunPlan,
  type RunResult,
  type RuntimeDependencies,
  type StartedRun,
} from './run-types.js';

interface RunControl {
  controller: AbortController;
  /** Set to stop the run at its next step boundary (it can be resumed from stored state). */
  pauseRequested: boolean;
}

interface ActiveRun {
  organizationId: string;
  threadId: string;
  /** The boot id the run is stored under. */
  processId: string;
  control: RunControl;
  completion: Promise<RunResult>;
}

/**
 * Starts agent runs and keeps track of the ones running in this process. A run belongs to no
 * request: it goes on if the client disconnects, and everything it does is persisted and
 * published on the thread's event log as it happens. The phases live apart: open-run.ts (claim,
 * store the question, open the execution), model-loop.ts (model and tools), finish-run.ts
 * (persist, account, release), paused-runs.ts (stop at a step boundary, go on later).
 */
/** The reason stored (and shown to the model) for calls a cancelled run waited on. */
const CANCELLED_REASON = 'cancelled';
const LOST_DECISIONS: readonly string[] = ['tool_call_already_decided', 'tool_approval_expired', 'run_not_active'];

export class AgentRuntime implements RunRecovery {
  readonly #active = new Map<string, ActiveRun>();
  /** Set at the end of `shutdown`: a run launched from then on is stopped at once. */
  #stopped = false;

  constructor(private readonly dependencies: RuntimeDependencies) {}

  /**
   * Stores the user's message, claims the thread and records the run, in one transaction; then
   * runs the agent in the background. 409 `thread_busy` when the thread already has a live run.
   */
  async start(request: RunRequest): Promise<StartedRun> {
    const { plan, userMessage, after } = await openRun(this.dependencies, request);
    const completion = this.#launch(plan, freshProgress(), false);
    return { runId: plan.runId, userMessage, assistantMessageId: plan.assistantMessageId, after, completion };
  }

  /**
   * Goes on with a run that stopped at a step boundary, from what is stored (any process can).
   * Resolves once the run is taken back; `completion` settles when it ends (or pauses again).
   */
  async resume(input: { organizationId: string; runId: string }): Promise<{ completion: Promise<RunResult> }> {
    const { plan, progress } = await takeBackPausedRun(this.dependencies, input);
    return { completion: this.#launch(plan, progress, true) };
  }

  /**
   * Approves or rejects a call a run waits on (see approval-decisions.ts); when it was the last
   * one, the run goes on in this process. Resolves once the decision is stored. 409
   * `tool_approval_expired` when the deadline had passed: the call was rejected as expired.
   */
  async decideToolCall(input: DecisionInput): Promise<Omit<DecisionOutcome, 'resumed' | 'late'>> {
    const { resumed, late, ...outcome } = await decideToolCall(this.dependencies, input);
    if (resumed) this.#launch(resumed.plan, resumed.progress, true);
    if (late) throw new AppError('tool_approval_expired');
    return outcome;
  }

  /**
   * Rejects, as `expired`, the approval requests whose deadline has passed, in any organisation
   * (every process sweeps; one decision wins per call). Returns how many this process rejected.
   */
  async expireToolApprovals(): Promise<number> {
    const { store, clock } = this.dependencies;
    const expired = await store.runMessages.expiredApprovals({ now: clock.now().toISOString(), limit: 100 });
    let count = 0;
    for (const request of expired) {
      try {
        await this.decideToolCall({ ...request, decision: { kind: 'reject', reason: EXPIRED_REASON, expired: true } });
        count += 1;
      } catch (error) {
        // Another process decided it (or ended its run) first: nothing is left to do here.
        const lost = error instanceof AppError && ['tool_call_already_decided', 'run_not_active'].includes(error.code);
        if (!lost) throw error;
      }
    }
    return count;
  }

  /**
   * Cancels a run that waits for approvals: each call it waits on is rejected (reason
   * `cancelled`), the last rejection takes the run back in this process, and the run is stopped
   * at once — it ends `cancelled` before the model is called again. False when it does not wait
   * (it was decided, or taken back, elsewhere first).
   */
  async cancelWaiting(input: { organizationId: string; threadId: string; runId: string }): Promise<boolean> {
    const { organizationId, runId } = input;
    const pending = await this.dependencies.store.write((writers) =>
      writers.runMessages.pendingApprovalCalls({ organizationId, runId }),
    );
    for (const call of pending) {
      try {
        const decision = { kind: 'reject' as const, reason: CANCELLED_REASON };
        await this.decideToolCall({ ...input, toolCallId: call.tool_call_id, decision });
      } catch (error) {
        // Decided by another request, process or the expiry sweep meanwhile: the run goes on there.
        const lost = error instanceof AppError && LOST_DECISIONS.includes(error.code);
        if (!lost) throw error;
      }
    }
    return this.cancel(input);
  }

  /** Asks a run of this process to stop at its next step boundary. False when none is active here. */
  pauseAtNextStep(input: { organizationId: string; runId: string }): boolean {
    const active = this.#active.get(input.runId);
    if (!active || active.organizationId !== input.organizationId) return false;
    active.control.pauseRequested = true;
    return true;
  }

  /**
   * Fails the runs that died with their process and ends them in their threads' logs, in one
   * transaction with the removal of the dead processes' rows: a process row is never gone while
   * its runs still look alive. See RunRecovery and findOrphanedRuns.
   */
  async recoverOrphanedRuns(input: {
    deadProcesses: readonly DeadProcess[];
    soleProcess?: boolean;
  }): Promise<{ runs: number; processes: number }> {
    const now = this.dependencies.clock.now().toISOString();
    const self = this.dependencies.process.id;
    const { webhooks } = this.dependencies;
    const recovered = await this.dependencies.eventLog.write(async (unit) => {
      const { writers } = unit;
      let processes = input.soleProcess === true ? await writers.processes.removeAllBut({ keepId: self }) : 0;
      for (const dead of input.deadProcesses) if (await writers.processes.removeDead(dead)) processes += 1;
      const interrupted = await writers.runs.failOrphaned({
        now,
        soleProcessId: input.soleProcess === true ? self : undefined,
      });
      const published = await endInterruptedRuns({ unit, runs: interrupted, now, webhooks });
      return { runs: interrupted.length, processes, published };
    });
    // Runs recovery failed end as `failed` in the run outcome metric, as any failed run does.
    for (let index = 0; index < recovered.runs; index++)
      this.dependencies.telemetry?.metrics.runEnded('failed', 'chat');
    if (recovered.published > 0) webhooks?.wake();
    return { runs: recovered.runs, processes: recovered.processes };
  }

  /** Stops the runs of this process stored under an old boot id; returns how many. */
  interruptRunsOf(processId: string): number {
    let count = 0;
    for (const run of this.#active.values()) {
      if (run.processId !== processId) continue;
      run.control.controller.abort(new RunStop('interrupted'));
      count += 1;
    }
    return count;
  }

  /** Cancels a run of this process. Returns false when no such run is active here. */
  cancel(input: { organizationId: string; threadId: string; runId: string }): boolean {
    const active = this.#active.get(input.runId);
    if (!active || active.organizationId !== input.organizationId || active.threadId !== input.threadId) return false;
    active.control.controller.abort(new RunStop('cancelled'));
    return true;
  }

  get activeRunCount(): number {
    return this.#active.size;
  }

  /**
   * For graceful shutdown: lets active runs finish until the deadline — runs launched meanwhile
   * too (their request was past the 503 check when shutdown began) — then stops the rest (they
   * are stored as cancelled) and waits for them to be persisted. A run launched after that is
   * stopped as it starts, so none is left running when the process exits.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    const settled = () => Promise.all([...this.#active.values()].map((run) => run.completion.catch(() => undefined)));
    while (this.#active.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled(), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
      clearTimeout(timer);
    }
    this.#stopped = true;
    for (const run of this.#active.values()) run.control.controller.abort(new RunStop('shutdown'));
    await settled();
  }

  /** Runs the loop in the background under this process's watch: deadline, lease, cancel. */
  #launch(plan: RunPlan, progress: RunProgress, resumed: boolean): Promise<RunResult> {
    const control: RunControl = { controller: new AbortController(), pauseRequested: false };
    if (this.#stopped) control.controller.abort(new RunStop('shutdown'));
    const scope = openRunScope(this.dependencies, plan, resumed);
    const completion = this.#drive(scope.dependencies, plan, progress, control);
    this.#active.set(plan.runId, {
      organizationId: plan.organizationId,
      threadId: plan.threadId,
      processId: plan.processId,
      control,
      completion,
    });
    const timeout = setTimeout(
      () => control.controller.abort(new RunStop('timeout')),
      this.dependencies.config.runTimeoutMs,
    );
    completion.then(
      (result) => scope.end(result, progress),
      () => scope.end(null, progress),
    );
    void completion
      .finally(() => {
        clearTimeout(timeout);
        // A run that waits for approval may be resumed (here) before this callback runs.
        if (this.#active.get(plan.runId)?.control === control) this.#active.delete(plan.runId);
      })
      // A run that cannot be stored at its end (its agent was deleted meanwhile) must not take the
      // process down with an unhandled rejection.
      .catch((error: unknown) => scope.dependencies.logger.error({ err: error }, 'run could not be finished'));
    return completion;
  }

  /**
   * The loop, then the end of the run (or its pause). Never rejects for a model or tool failure:
   * those end the run with a status.
   */
  async #drive(
    dependencies: RuntimeDependencies,
    plan: RunPlan,
    progress: RunProgress,
    control: RunControl,
  ): Promise<RunResult> {
    const signal = control.controller.signal;
    const lease = setInterval(() => void this.#renewLease(dependencies, plan), RUN_LEASE_MS / 3);
    try {
      const pauseRequested = () => control.pauseRequested;
      const end = await runSteps({ dependencies, run: plan, progress, signal, pauseRequested });
      if (end === 'paused') {
        await pauseRun(dependencies, plan, progress);
        return this.#pausedResult(plan, progress);
      }
      if (end === 'awaiting_approval') return this.#pausedResult(plan, progress);
      return await finishRun({ dependencies, run: plan, progress, status: 'completed', error: null });
    } catch (caught) {
      const { status, error } = classify(caught, signal);
      if (error?.code === 'internal_error') {
        dependencies.logger.error({ err: caught }, 'run failed');
      } else if (caught instanceof ModelError) {
        const details = { err: caught.cause ?? caught, model: plan.model.id };
        dependencies.logger.warn(details, 'model call failed');
      }
      return await finishRun({ dependencies, run: plan, progress, status, error }).catch((unstorable: unknown) => {
        // The reply itself could not be stored: the run still ends in its log, without it.
        dependencies.logger.error({ err: unstorable }, 'run could not be stored; ending it empty');
        const internal = { code: 'internal_error', message: 'The run failed unexpectedly' } as const;
        return finishRun({ dependencies, run: plan, progress: freshProgress(), status: 'failed', error: internal });
      });
    } finally {
      clearInterval(lease);
    }
  }

  /**
   * The reply as it stands when its run stopped (`queued`) or waits for approvals (`pending`),
   * from the store: a decision may already have resumed it.
   */
  async #pausedResult(plan: RunPlan, progress: RunProgress): Promise<RunResult> {
    const { store } = this.dependencies;
    const execution = await store.runs.get({ organizationId: plan.organizationId, id: plan.runId });
    if (!execution) throw new Error(`run ${plan.runId} vanished while it paused`);
    const stored = await store.messages.get({ organizationId: plan.organizationId, id: plan.assistantMessageId });
    // The text so far is the run's (it is stored when the run ends); calls and metadata the store's.
    const message = {
      id: plan.assistantMessageId,
      thread_id: plan.threadId,
      content: progress.text,
      content_html: null,
      role: 'assistant',
      tool_calls: stored?.tool_calls ?? progress.toolCalls,
      attachments: [],
      metadata: stored?.metadata ?? { run_id: plan.runId, model: plan.model.id, status: 'in_progress' },
      created_at: plan.assistantCreatedAt,
      feedback: null,
    };
    return { status: execution.status, message, execution, error: null };
  }

  async #renewLease(dependencies: RuntimeDependencies, plan: RunPlan): Promise<void> {
    const { store, clock, logger } = dependencies;
    try {
      await store.write((writers) =>
        writers.threadRuns.renew({
          organizationId: plan.organizationId,
          threadId: plan.threadId,
          runId: plan.runId,
          expiresAt: new Date(clock.now().getTime() + RUN_LEASE_MS).toISOString(),
        }),
      );
    } catch (error) {
      logger.warn({ err: error }, 'could not renew the run lease');
    }
  }
}

export type { RunResult, StartedRun } from './run-types.js';
