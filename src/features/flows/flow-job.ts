import type { Job } from '../../domain/jobs.js';
import { DEFAULT_RETRY, isFinished, type Flow, type RetryConfig } from '../../domain/flows.js';
import type { ExecutionStatus, FlowExecution, JsonObject } from '../../domain/models.js';
import { AppError } from '../../errors.js';
import type { JobContext, JobHandler, JobOutcome } from '../../jobs/job-handler.js';
import { endAgentSpan, NO_TELEMETRY, startAgentSpan } from '../../observability/run-telemetry.js';
import { classify } from '../../runtime/finish-run.js';
import { requireQuotaRoom } from '../../runtime/quota-admission.js';
import { freshProgress } from '../../runtime/run-progress.js';
import { RunStop } from '../../runtime/run-types.js';
import { FLOW_EXECUTION_JOB } from './flow-enqueue.js';
import { planFlowRun, runFlow } from './flow-runner.js';
import { endExecution, type Ending, type FlowJobDependencies } from './flow-end.js';
import { FlowJournal, journalOf, resumedProgress } from './flow-journal.js';

/**
 * The `flow_execution` job (docs/flows.md): takes the execution (`queued`, `pending` or
 * `retrying` → `running`; `running` again after its process died), runs it (flow-runner.ts) and
 * ends it (flow-end.ts). It watches three stops: its own timer (`timeout_seconds` → `timeout`),
 * a cancel (this process: `jobs.cancel` aborts the job's signal; another process: the job row is
 * cancelled, so the lease renewal fails, and the execution's row is read every
 * `CANCEL_CHECK_MS`), and the queue's own stops (shutdown, lease lost, a journal write refused),
 * after which the execution is left `running` for the next claim, which resumes it from its
 * journal (flow-journal.ts): completed tool calls are not run again.
 */

/** How often a running execution reads its row for a cancel made in another process. */
export const CANCEL_CHECK_MS = 1000;

/** The statuses an execution is taken from: waiting, or running when its last process died. */
const TAKEN_FROM: readonly ExecutionStatus[] = ['pending', 'queued', 'retrying', 'running'];

const DONE: JobOutcome = { status: 'succeeded', errorMessage: null };

export function flowExecutionHandler(dependencies: FlowJobDependencies): JobHandler {
  return {
    kind: FLOW_EXECUTION_JOB,
    run: (job, context) => runExecutionJob(dependencies, job, context),
    onGiveUp: async ({ job, writers, now }) => {
      const message = 'The execution was interrupted (its server stopped) too many times';
      await writers.flowExecutions.move({
        organizationId: job.organization_id,
        id: job.subject_id,
        from: TAKEN_FROM,
        changes: {
          status: 'failed',
          completed_at: now,
          updated_at: now,
          error_message: message,
          error_details: { code: 'interrupted', attempts: job.attempts },
        },
      });
      return message;
    },
  };
}

async function runExecutionJob(dependencies: FlowJobDependencies, job: Job, context: JobContext): Promise<JobOutcome> {
  const { store, clock } = dependencies.runtime;
  const key = { organizationId: job.organization_id, id: job.subject_id };
  const waiting = await store.runs.get(key);
  if (!waiting || isFinished(waiting.status)) return DONE;
  const started = clock.now();
  const stamp = started.toISOString();
  const execution = await store.write((writers) =>
    writers.flowExecutions.move({
      ...key,
      from: TAKEN_FROM,
      changes: { status: 'running', started_at: stamp, updated_at: stamp },
    }),
  );
  if (!execution) return DONE;
  const retry = (job.payload.retry_config as unknown as RetryConfig | undefined) ?? DEFAULT_RETRY;
  // Taken while `running`: its last process died mid-way, and this attempt resumes its trace.
  const taken = { ...execution, resumed: waiting.status === 'running', job: { jobId: job.id, token: job.lease_token } };
  const ending = await attempt(dependencies, taken, context);
  await endExecution({ dependencies, execution, ending, retry, started });
  return DONE;
}

/**
 * Runs the execution under its stops; resolves with how it ended. Rethrows when the queue
 * stopped the job for its own reasons (shutdown, lost lease) and nobody cancelled it.
 */
async function attempt(
  dependencies: FlowJobDependencies,
  execution: TakenExecution,
  context: JobContext,
): Promise<Ending> {
  const { store } = dependencies.runtime;
  const key = { organizationId: execution.organization_id, id: execution.id };
  const controller = new AbortController();
  const stop = (reason: RunStop) => controller.signal.aborted || controller.abort(reason);
  let queueStopped = false;
  const onJobStop = () => {
    queueStopped = true;
    stop(new RunStop('cancelled'));
  };
  context.signal.addEventListener('abort', onJobStop, { once: true });
  const timer = setTimeout(() => stop(new RunStop('timeout')), execution.timeout_seconds * 1000);
  const cancelled = async () => (await store.runs.get(key))?.status === 'cancelled';
  const watch = setInterval(() => {
    void cancelled().then(
      (yes) => yes && stop(new RunStop('cancelled')),
      (error: unknown) => dependencies.runtime.logger.warn({ err: error }, 'flow execution: cancel check failed'),
    );
  }, CANCEL_CHECK_MS);
  const progress = freshProgress();
  const ending: Ending = {
    status: 'failed',
    progress,
    modelId: null,
    finalOutput: null,
    error: null,
    unavailableTools: [],
  };
  try {
    await runModelPart(dependencies, execution, ending, { signal: controller.signal, lost: onJobStop });
    return ending;
  } catch (caught) {
    if (queueStopped && !(await cancelled())) throw caught;
    const ended = endingOf(caught, controller.signal);
    if (ended.error?.details?.code === 'internal_error')
      dependencies.runtime.logger.error({ err: caught, executionId: execution.id }, 'flow execution failed');
    return { ...ending, ...ended, progress };
  } finally {
    clearTimeout(timer);
    clearInterval(watch);
    context.signal.removeEventListener('abort', onJobStop);
  }
}

/**
 * An execution as this attempt took it: `resumed` when another attempt had started it; `job`
 * names the attempt (its job and fencing token) for the journal's writes.
 */
type TakenExecution = FlowExecution & { resumed: boolean; job: { jobId: string; token: number } };

/** Loads what the execution needs and runs the model; fills `ending` as it goes. */
async function runModelPart(
  dependencies: FlowJobDependencies,
  execution: TakenExecution,
  ending: Ending,
  stops: { signal: AbortSignal; lost: () => void },
): Promise<void> {
  const { signal } = stops;
  const runtime = dependencies.runtime;
  const { store, clock } = runtime;
  const organizationId = execution.organization_id;
  const flow: Flow | null = await store.flows.get({ organizationId, id: execution.flow_id });
  if (!flow) throw new FlowFailure('flow_not_found', 'The flow was deleted before its execution ran');
  const agent = await store.agents.get({ organizationId, id: flow.agent_id });
  if (!agent) throw new FlowFailure('agent_not_found', 'The flow’s agent was deleted before its execution ran');
  // Admitted when it was enqueued; a scheduled or retried execution may meet a spent budget now.
  await requireQuotaRoom(store, { organizationId, now: clock.now() });
  const plan = await planFlowRun({ dependencies: runtime, organizationId, agent, flow });
  ending.modelId = plan.run.model.id;
  ending.unavailableTools = plan.unavailableTools;
  const journal = await openJournal(runtime, execution, stops.lost);
  // Resumed from a journal: its steps, usage and completed tool calls, and where to go on.
  if (journal.saved) Object.assign(ending.progress, resumedProgress(journal.saved, clock.now().toISOString()));
  // The execution's `invoke_agent` span, over its model and tool spans, as a chat run's.
  const { span, telemetry } = startAgentSpan(runtime.telemetry ?? NO_TELEMETRY, {
    agentId: agent.id,
    agentName: agent.name,
    runId: execution.id,
    flowId: flow.id,
    modelId: plan.run.model.id,
    resumed: execution.resumed,
  });
  try {
    const answer = await runFlow({
      dependencies: { ...runtime, telemetry },
      agent,
      flow,
      variables: execution.variables,
      ...plan,
      progress: ending.progress,
      signal,
      journal,
    });
    if (answer.kind === 'answer') {
      ending.status = 'completed';
      ending.finalOutput = answer.finalOutput;
    } else {
      ending.status = 'failed';
      ending.error = { message: answer.message, details: answer.details };
    }
    endAgentSpan(span, { status: ending.status, usage: ending.progress.usage, errorCode: codeOf(ending.error) });
  } catch (caught) {
    const ended = endingOf(caught, signal);
    endAgentSpan(span, { status: ended.status, usage: ending.progress.usage, errorCode: codeOf(ended.error) });
    throw caught;
  }
}

/** The execution's journal (flow-journal.ts): the saved one when resumed, written under the attempt's token. */
async function openJournal(
  runtime: FlowJobDependencies['runtime'],
  execution: TakenExecution,
  lost: () => void,
): Promise<FlowJournal> {
  const key = { organizationId: execution.organization_id, id: execution.id };
  const saved = execution.resumed ? journalOf(await runtime.store.flowExecutions.journal(key)) : null;
  return new FlowJournal({
    saved,
    lost,
    write: (journal) =>
      runtime.store.write((writers) =>
        writers.flowExecutions.journal({
          ...key,
          attempt: execution.job,
          journal,
          now: runtime.clock.now().toISOString(),
        }),
      ),
  });
}

const codeOf = (error: Ending['error']) => {
  const code = error?.details?.code;
  return typeof code === 'string' ? code : undefined;
};

/** A failure the runner decides (the flow or agent is gone), recorded with its code. */
class FlowFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The status and error of an execution that threw: stopped (cancel, timeout), a refusal, a model failure, or a bug. */
function endingOf(caught: unknown, signal: AbortSignal): Pick<Ending, 'status' | 'error'> {
  if (!signal.aborted && (caught instanceof AppError || caught instanceof FlowFailure)) {
    return { status: 'failed', error: { message: caught.message, details: { code: caught.code } } };
  }
  const { status, error } = classify(caught, signal);
  const details: JsonObject | null = error ? { code: error.code } : null;
  return { status, error: error ? { message: error.message, details } : null };
}
