import type { RetryConfig, RetryOn } from '../../domain/flows.js';
import type { ExecutionStatus, FlowExecution, JsonObject } from '../../domain/models.js';
import { retryDelayMs } from '../../jobs/retry-delay.js';
import { publishExecutionEnd } from '../../webhooks/webhook-events.js';
import type { RunProgress } from '../../runtime/run-progress.js';
import type { StoreWriters } from '../../storage/store.js';
import { enqueueFlowExecution } from './flow-enqueue.js';
import type { JobsConfig } from '../../config-jobs.js';
import type { RuntimeDependencies } from '../../runtime/run-types.js';

/** What the flow_execution job (flow-job.ts) and the end of its execution need. */
export interface FlowJobDependencies {
  runtime: RuntimeDependencies;
  jobs: JobsConfig;
}

/** How an execution's run ended, as flow-job.ts found it. */
export interface Ending {
  status: ExecutionStatus;
  progress: RunProgress;
  /** The model that ran (null: it ended before one was resolved). */
  modelId: string | null;
  finalOutput: JsonObject | null;
  error: { message: string; details: JsonObject | null } | null;
  unavailableTools: string[];
}

/**
 * The end of a flow's execution, in one transaction: the outcome and figures written if it is
 * still `running` (a cancel that won first keeps its status and gets the figures only), the run
 * in the usage ledger, and — for a failure or timeout listed in `retry_on` with retries left —
 * the retry: a new execution with `parent_execution_id` and `retry_count + 1`, its job due after
 * the backoff — and the execution's `execution.<status>` webhook event.
 */
export async function endExecution(input: {
  dependencies: FlowJobDependencies;
  execution: FlowExecution;
  ending: Ending;
  retry: RetryConfig;
  started: Date;
}): Promise<void> {
  const { dependencies, execution, ending } = input;
  const { store, clock, pricing, webhooks } = dependencies.runtime;
  const ended = clock.now();
  const cost = ending.modelId === null ? null : pricing.costOf(ending.modelId, ending.progress.usage);
  const figures = figuresOf(ending, cost, input.started, ended);
  const key = { organizationId: execution.organization_id, id: execution.id };
  let counted: string | null = null;
  const published = await store.write(async (writers) => {
    const outcome = {
      ...figures,
      status: ending.status,
      completed_at: ended.toISOString(),
      final_output: ending.finalOutput,
      error_message: ending.error?.message ?? null,
      error_details: ending.error?.details ?? null,
    };
    const moved = await writers.flowExecutions.move({ ...key, from: ['running'], changes: outcome });
    const cancelled = !moved && (await writers.flowExecutions.move({ ...key, from: ['cancelled'], changes: figures }));
    counted = moved ? ending.status : cancelled ? 'cancelled' : null;
    if (ending.modelId !== null) {
      const status = moved ? ending.status : 'cancelled';
      await recordUsage(writers, {
        execution,
        ending,
        modelId: ending.modelId,
        status,
        cost,
        started: input.started,
        ended,
      });
    }
    if (moved && retries(input.retry, execution, ending.status)) await enqueueRetry(writers, input, ended);
    // `execution.<status>` to the organisation's webhooks, in this same transaction (docs/webhooks.md).
    return moved && webhooks
      ? publishExecutionEnd(webhooks, writers, { execution: moved, now: outcome.completed_at })
      : 0;
  });
  if (published > 0) webhooks?.wake();
  // Counted once stored, as it was stored: an execution cancelled meanwhile counts as cancelled.
  if (counted !== null) dependencies.runtime.telemetry?.metrics.runEnded(counted, 'flow');
}

/** What an execution's row records of how it ran, however it ended. */
function figuresOf(ending: Ending, cost: number | null, started: Date, ended: Date) {
  const { inputTokens, outputTokens } = ending.progress.usage;
  return {
    steps: ending.progress.steps,
    tokens_used: inputTokens + outputTokens,
    tool_calls_count: ending.progress.toolCalls.length,
    cost_estimate: cost,
    duration_ms: ended.getTime() - started.getTime(),
    performance_metrics: {
      model: ending.modelId,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      model_calls: ending.progress.steps.filter((step) => step.step_type === 'llm').length,
      ...(ending.unavailableTools.length > 0 ? { unavailable_tools: ending.unavailableTools } : {}),
    },
    updated_at: ended.toISOString(),
    // The journal (flow-journal.ts) is done with: the steps keep what it held.
    checkpoint: null,
  };
}

/** The execution's run in the usage ledger (docs/usage.md). */
async function recordUsage(
  writers: StoreWriters,
  input: {
    execution: FlowExecution;
    ending: Ending;
    modelId: string;
    status: ExecutionStatus;
    cost: number | null;
    started: Date;
    ended: Date;
  },
): Promise<void> {
  const { execution, ending } = input;
  await writers.usage.record({
    run_id: execution.id,
    organization_id: execution.organization_id,
    agent_id: execution.agent_id,
    thread_id: null,
    message_id: null,
    model: input.modelId,
    status: input.status,
    input_tokens: ending.progress.usage.inputTokens,
    output_tokens: ending.progress.usage.outputTokens,
    cost: input.cost,
    started_at: input.started.toISOString(),
    ended_at: input.ended.toISOString(),
  });
}

function retries(retry: RetryConfig, execution: FlowExecution, status: ExecutionStatus): boolean {
  return retry.retry_on.includes(status as RetryOn) && execution.retry_count < retry.max_retries;
}

async function enqueueRetry(
  writers: StoreWriters,
  input: { dependencies: FlowJobDependencies; execution: FlowExecution; retry: RetryConfig },
  now: Date,
): Promise<void> {
  const { dependencies, execution, retry } = input;
  const flow = await writers.flows.get({ organizationId: execution.organization_id, id: execution.flow_id });
  if (!flow) return;
  const retryCount = execution.retry_count + 1;
  const delay = retryDelayMs({
    attempt: retryCount,
    job: { kind: retry.backoff, base_ms: retry.initial_delay_ms, max_ms: retry.max_delay_ms },
    defaults: dependencies.jobs.backoff,
  });
  await enqueueFlowExecution(writers, {
    organizationId: execution.organization_id,
    flow,
    triggerType: execution.trigger_type,
    triggerData: execution.trigger_data,
    variables: execution.variables,
    priority: execution.priority,
    runAfter: new Date(now.getTime() + delay),
    now,
    timeoutSeconds: execution.timeout_seconds,
    retry,
    metadata: execution.metadata,
    parent: { id: execution.id, retryCount },
    maxAttempts: dependencies.jobs.maxAttempts,
    newId: dependencies.runtime.newId,
  });
}
