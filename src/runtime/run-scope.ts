import { endAgentSpan, NO_TELEMETRY, startAgentSpan } from '../observability/run-telemetry.js';
import type { RunProgress } from './run-progress.js';
import type { RunPlan, RunResult, RuntimeDependencies } from './run-types.js';

/** How a run can end; `queued` (paused) and `pending` (awaiting approvals) stop it without ending it. */
const ENDED = new Set(['completed', 'failed', 'cancelled', 'timeout']);

/**
 * The dependencies one run (or one resumed stretch of it) works with: the app's, with the logger
 * bound to the run — every line written while it runs carries `runId`, `threadId` and `agentId`
 * — and the telemetry bound to its `invoke_agent` span. Passed down the runtime, never kept in a
 * global, so concurrent runs never see each other's.
 */
export function openRunScope(
  dependencies: RuntimeDependencies,
  plan: RunPlan,
  /** A stretch after the first (approvals, a pause): a child of the run's first span, same trace. */
  resumed: boolean,
): { dependencies: RuntimeDependencies; end(result: RunResult | null, progress: RunProgress): void } {
  const logger = dependencies.logger.child({ runId: plan.runId, threadId: plan.threadId, agentId: plan.agent.id });
  const { span, telemetry } = startAgentSpan(dependencies.telemetry ?? NO_TELEMETRY, {
    agentId: plan.agent.id,
    agentName: plan.agent.name,
    runId: plan.runId,
    threadId: plan.threadId,
    modelId: plan.model.id,
    resumed,
  });
  logger.debug({ model: plan.model.id }, 'run started');
  return {
    dependencies: { ...dependencies, logger, telemetry },
    end: (result, progress) => {
      // A run that could not be stored at its end is logged as such by the runtime; it counts as failed.
      const status = result?.status ?? 'failed';
      if (ENDED.has(status)) telemetry.metrics.runEnded(status, 'chat');
      endAgentSpan(span, { status, usage: progress.usage, errorCode: result?.error?.code });
      logger.debug({ status }, ENDED.has(status) ? 'run ended' : 'run stopped for now');
    },
  };
}
