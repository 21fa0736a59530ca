import type { ExecutionStep } from '../domain/models.js';
import type { RunCheckpoint } from '../domain/runs.js';
import { AppError } from '../errors.js';
import type { StoreWriters, WaitingStatus } from '../storage/store.js';
import { maxStepsOf, resolveModelId } from './open-run.js';
import { fromCheckpoint, toCheckpoint, type RunProgress } from './run-progress.js';
import { RUN_LEASE_MS, RunStop, type RunPlan, type RuntimeDependencies } from './run-types.js';

/**
 * A run stopped at a step boundary keeps its thread (new user messages get `thread_busy`) until
 * it is resumed: its lease is held, not timed, so no sweep takes it for a dead one.
 */
const HELD_UNTIL_RESUMED = '9999-12-31T23:59:59.999Z';

/** Stores where the run stands and lets it wait, in one transaction. */
export async function pauseRun(dependencies: RuntimeDependencies, run: RunPlan, progress: RunProgress): Promise<void> {
  await dependencies.store.write((writers) =>
    holdRun({ writers, dependencies, run, checkpoint: toCheckpoint(progress, run.assistantCreatedAt) }),
  );
}

/**
 * Inside a write unit: the run stops with `checkpoint` (as `status`, `queued` by default) and
 * holds its thread until it is resumed. A run that is no longer running (recovery failed it
 * meanwhile) stops here as interrupted, and the unit rolls back.
 */
export async function holdRun(input: {
  writers: StoreWriters;
  dependencies: RuntimeDependencies;
  run: RunPlan;
  checkpoint: RunCheckpoint;
  status?: WaitingStatus;
  steps?: ExecutionStep[];
}): Promise<void> {
  const { writers, run } = input;
  const now = input.dependencies.clock.now().toISOString();
  const key = { organizationId: run.organizationId, id: run.runId };
  const paused = await writers.runs.pause({
    ...key,
    checkpoint: input.checkpoint,
    now,
    ...(input.status ? { status: input.status } : {}),
    ...(input.steps ? { steps: input.steps } : {}),
  });
  if (!paused) throw new RunStop('interrupted');
  await writers.threadRuns.renew({
    organizationId: run.organizationId,
    threadId: run.threadId,
    runId: run.runId,
    expiresAt: HELD_UNTIL_RESUMED,
  });
}

/**
 * Rebuilds a stopped run from stored state alone (any process can), and takes it back: it is
 * `running` again with a live lease on its thread. 404 `run_not_found` when no such run is
 * waiting; 409 `run_not_active` when another caller resumed it first.
 */
export async function takeBackPausedRun(
  dependencies: RuntimeDependencies,
  input: { organizationId: string; runId: string },
): Promise<{ plan: RunPlan; progress: RunProgress }> {
  const { plan, checkpoint } = await loadPausedRun(dependencies, { ...input, status: 'queued' });
  await dependencies.store.write(async (writers) => {
    // Another caller resumed it first (or its thread is no longer its own): change nothing.
    if (!(await claimPausedRun({ writers, dependencies, plan, status: 'queued' })))
      throw new AppError('run_not_active');
  });
  return { plan, progress: await progressOf(dependencies, plan, checkpoint) };
}

/** The plan of a stopped run, from the execution and its agent as stored. 404 `run_not_found`. */
export async function loadPausedRun(
  dependencies: RuntimeDependencies,
  input: { organizationId: string; runId: string; status: WaitingStatus },
): Promise<{ plan: RunPlan; checkpoint: RunCheckpoint }> {
  const { store } = dependencies;
  const paused = await store.runs.paused({
    organizationId: input.organizationId,
    id: input.runId,
    status: input.status,
  });
  const threadId = paused?.execution.thread_id;
  const messageId = paused?.execution.message_id;
  if (!paused || !threadId || !messageId) throw new AppError('run_not_found');
  const { execution, checkpoint } = paused;
  const agent = await store.agents.get({ organizationId: input.organizationId, id: execution.agent_id });
  if (!agent) throw new AppError('agent_not_found');
  const plan: RunPlan = {
    runId: execution.id,
    organizationId: input.organizationId,
    agent,
    threadId,
    assistantMessageId: messageId,
    assistantCreatedAt: checkpoint.reply_created_at,
    // The model the run started with, whatever the agent says now.
    model: resolveModelId(dependencies, String(execution.metadata.model)),
    tools: await dependencies.tools.resolve({ organizationId: input.organizationId, agent }),
    maxSteps: maxStepsOf(agent),
    startedAt: new Date(execution.started_at),
    // The request that started the run has had its answer (the paused reply).
    idempotency: undefined,
    processId: dependencies.process.id,
  };
  return { plan, checkpoint };
}

/**
 * Inside a write unit: takes a stopped run back for this process (`status` → `running`, a live
 * lease on its thread). False when another caller took it first (in any process).
 */
export async function claimPausedRun(input: {
  writers: StoreWriters;
  dependencies: RuntimeDependencies;
  plan: RunPlan;
  status: WaitingStatus;
}): Promise<boolean> {
  const { writers, plan } = input;
  const now = input.dependencies.clock.now();
  const resumed = await writers.runs.resume({
    organizationId: plan.organizationId,
    id: plan.runId,
    now: now.toISOString(),
    processId: plan.processId,
    status: input.status,
  });
  return (
    resumed &&
    (await writers.threadRuns.renew({
      organizationId: plan.organizationId,
      threadId: plan.threadId,
      runId: plan.runId,
      expiresAt: new Date(now.getTime() + RUN_LEASE_MS).toISOString(),
    }))
  );
}

/** The progress of a run taken back: its checkpoint, and the tool calls its reply has stored. */
export async function progressOf(
  dependencies: RuntimeDependencies,
  plan: RunPlan,
  checkpoint: RunCheckpoint,
): Promise<RunProgress> {
  const toolCalls = await dependencies.store.runMessages.toolCalls({
    organizationId: plan.organizationId,
    messageId: plan.assistantMessageId,
  });
  return fromCheckpoint(
    checkpoint,
    toolCalls.map(({ id: _id, ...call }) => call),
  );
}
