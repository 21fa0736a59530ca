import type { Flow, RetryConfig } from '../../domain/flows.js';
import type { ExecutionStatus, FlowExecution, JsonObject, Priority, TriggerType } from '../../domain/models.js';
import type { NewRun } from '../../domain/runs.js';
import type { StoreWriters } from '../../storage/store.js';

/** The job kind that runs a flow's execution (flow-job.ts). */
export const FLOW_EXECUTION_JOB = 'flow_execution';

/**
 * How long past an execution's own timeout its job may run before the queue stops it: the
 * runner ends the execution `timeout` itself; this is only the backstop for a stuck attempt.
 */
const JOB_TIMEOUT_MARGIN_MS = 30_000;

export interface FlowExecutionRequest {
  organizationId: string;
  flow: Flow;
  triggerType: TriggerType;
  triggerData: JsonObject;
  variables: JsonObject;
  priority: Priority;
  /** When it may start; now or later. */
  runAfter: Date;
  now: Date;
  timeoutSeconds: number;
  retry: RetryConfig;
  metadata: JsonObject;
  /** A retry: the execution it retries and its retry number. */
  parent?: { id: string; retryCount: number } | undefined;
  /** Attempts of the job (interruptions by a dying process) before the execution fails. */
  maxAttempts: number;
  newId: () => string;
  /** The execution's id when the caller needs it first (a schedule's slot names it); else a new one. */
  id?: string | undefined;
}

/**
 * Inserts a flow's execution with its job, in the caller's transaction: the execution exists
 * exactly when its job does (docs/jobs.md). Status: `queued` when due now, `pending` when
 * `scheduled_at` is later, `retrying` for a retry waiting out its backoff. Null: the flow is gone.
 */
export async function enqueueFlowExecution(
  writers: StoreWriters,
  request: FlowExecutionRequest,
): Promise<FlowExecution | null> {
  const { flow, now } = request;
  const executionNumber = await writers.flows.nextExecutionNumber({
    organizationId: request.organizationId,
    id: flow.id,
  });
  if (executionNumber === null) return null;
  const id = request.id ?? request.newId();
  const jobId = request.newId();
  const stamp = now.toISOString();
  const later = request.runAfter.getTime() > now.getTime();
  const status: ExecutionStatus = request.parent ? 'retrying' : later ? 'pending' : 'queued';
  const run = newFlowRun(request, { id, jobId, status });
  const execution = await writers.flowExecutions.insert({ executionNumber, run });
  await writers.jobs.enqueue({
    id: jobId,
    organization_id: request.organizationId,
    kind: FLOW_EXECUTION_JOB,
    subject_id: id,
    payload: { retry_config: request.retry as unknown as JsonObject },
    priority: request.priority,
    run_after: request.runAfter.toISOString(),
    max_attempts: request.maxAttempts,
    timeout_ms: request.timeoutSeconds * 1000 + JOB_TIMEOUT_MARGIN_MS,
    progress: {},
    now: stamp,
  });
  return execution;
}

function newFlowRun(
  request: FlowExecutionRequest,
  fixed: { id: string; jobId: string; status: ExecutionStatus },
): NewRun {
  const { flow } = request;
  const stamp = request.now.toISOString();
  return {
    id: fixed.id,
    flow_id: flow.id,
    agent_id: flow.agent_id,
    organization_id: request.organizationId,
    thread_id: null,
    message_id: null,
    job_id: fixed.jobId,
    trigger_type: request.triggerType,
    trigger_data: request.triggerData,
    variables: request.variables,
    priority: request.priority,
    status: fixed.status,
    // Until it starts: when it may start (the runner sets the real start).
    started_at: request.runAfter.toISOString(),
    completed_at: null,
    duration_ms: null,
    timeout_seconds: request.timeoutSeconds,
    steps: [],
    final_output: null,
    error_message: null,
    error_details: null,
    retry_count: request.parent?.retryCount ?? 0,
    max_retries: request.retry.max_retries,
    parent_execution_id: request.parent?.id ?? null,
    tokens_used: null,
    tool_calls_count: 0,
    cost_estimate: null,
    performance_metrics: {},
    metadata: request.metadata,
    created_at: stamp,
    updated_at: stamp,
  };
}
