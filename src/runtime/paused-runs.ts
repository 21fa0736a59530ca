import { AppError } from '../errors.js';
import { maxStepsOf, resolveModelId } from './open-run.js';
import { fromCheckpoint, toCheckpoint, type RunProgress } from './run-progress.js';
import { RUN_LEASE_MS, type RunPlan, type RuntimeDependencies } from './run-types.js';

/**
 * A run stopped at a step boundary keeps its thread (new user messages get `thread_busy`) until
 * it is resumed: its lease is held, not timed, so no sweep takes it for a dead one.
 */
const HELD_UNTIL_RESUMED = '9999-12-31T23:59:59.999Z';

/** Stores where the run stands and lets it wait, in one transaction. */
export async function pauseRun(dependencies: RuntimeDependencies, run: RunPlan, progress: RunProgress): Promise<void> {
  const now = dependencies.clock.now().toISOString();
  await dependencies.store.write(async (writers) => {
    const key = { organizationId: run.organizationId, id: run.runId };
    await writers.runs.pause({ ...key, checkpoint: toCheckpoint(progress, run.assistantCreatedAt), now });
    await writers.threadRuns.renew({
      organizationId: run.organizationId,
      threadId: run.threadId,
      runId: run.runId,
      expiresAt: HELD_UNTIL_RESUMED,
    });
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
  const { store } = dependencies;
  const paused = await store.runs.paused({ organizationId: input.organizationId, id: input.runId });
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
  const toolCalls = await store.runMessages.toolCalls({
    organizationId: plan.organizationId,
    messageId: plan.assistantMessageId,
  });
  const now = dependencies.clock.now();
  await store.write(async (writers) => {
    const resumed = await writers.runs.resume({
      organizationId: plan.organizationId,
      id: plan.runId,
      now: now.toISOString(),
      processId: plan.processId,
    });
    const held =
      resumed &&
      (await writers.threadRuns.renew({
        organizationId: plan.organizationId,
        threadId: plan.threadId,
        runId: plan.runId,
        expiresAt: new Date(now.getTime() + RUN_LEASE_MS).toISOString(),
      }));
    // Another caller resumed it first (or its thread is no longer its own): change nothing.
    if (!held) throw new AppError('run_not_active');
  });
  return {
    plan,
    progress: fromCheckpoint(
      checkpoint,
      toolCalls.map(({ id: _id, ...call }) => call),
    ),
  };
}
