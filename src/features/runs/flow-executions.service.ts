import {
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_SECONDS,
  isFinished,
  type FlowExecutionChange,
  type RetryConfig,
} from '../../domain/flows.js';
import type { ExecutionStatus, FlowExecution, JsonObject, Priority, TriggerType } from '../../domain/models.js';
import { AppError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import { requireQuotaRoom } from '../../runtime/quota-admission.js';
import {
  PENDING_STATUSES,
  type ExecutionFieldChanges,
  type ExecutionListFilter,
} from '../../storage/kysely/flow-executions-store.js';
import type { IdempotencyClaim, Store, StoreWriters } from '../../storage/store.js';
import { cursorNotInList, cursorOf } from '../cursor-pages.js';
import { enqueueFlowExecution } from '../flows/flow-enqueue.js';
import { checkVariables, withDefaults } from '../flows/flow-variables.js';
import type { WebhookPublisher } from '../../webhooks/webhook-publisher.js';
import { publishExecutionEnd } from '../../webhooks/webhook-events.js';
import { utcTimeRange } from '../time-range.js';

export interface ExecuteInput {
  flow_id: string;
  trigger_type: TriggerType;
  trigger_data?: JsonObject | undefined;
  variables?: JsonObject | undefined;
  priority?: Priority | undefined;
  scheduled_at?: string | undefined;
  timeout_seconds?: number | undefined;
  retry_config?: RetryConfig | undefined;
  metadata?: JsonObject | undefined;
}

/** The store's filter (flow, agent, status, trigger, date range), and a page or a cursor. */
export interface ListInput extends ExecutionListFilter {
  page: number;
  pageSize: number;
  before?: string | undefined;
  after?: string | undefined;
}

/** The figures the runtime owns: only an admin key may set them by PATCH (reliability.md T4). */
export const ADMIN_FIELDS = [
  'status',
  'tokens_used',
  'cost_estimate',
  'tool_calls_count',
  'duration_ms',
  'retry_count',
  'completed_at',
] as const;

/**
 * The execution as the API shows it, without the server's own links (thread, reply, job): the
 * serialiser drops them from responses, but a recorded Idempotency-Key replay is the body as
 * stored, so it is stored in this shape.
 */
function publicExecution(execution: FlowExecution): FlowExecution {
  const { thread_id: _thread, message_id: _message, job_id: _job, ...shown } = execution;
  return shown as FlowExecution;
}

/** Statuses a finished execution may never be set back to. */
const UNFINISHED: readonly ExecutionStatus[] = ['pending', 'queued', 'running', 'retrying'];

/**
 * Flow executions (docs/flows.md): execute a flow (the execution and its job in one
 * transaction), list and read them (chat runs too), cancel, PATCH with its rules and audit.
 */
export class FlowExecutionsService {
  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      /** Attempts of a flow's job (interruptions) before the execution fails (JOB_MAX_ATTEMPTS). */
      maxAttempts: number;
      /** After an enqueue commits / to stop a job of this process at once. */
      wake(): void;
      cancelJob(jobId: string): void;
      /** The webhook outbox: a cancel publishes `execution.cancelled` in its transaction. */
      webhooks?: WebhookPublisher | undefined;
    },
  ) {}

  async execute(input: {
    organizationId: string;
    body: ExecuteInput;
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<{ execution: FlowExecution; message: string }> {
    const { store, clock, newId } = this.dependencies;
    const { organizationId, body } = input;
    const flow = await store.flows.get({ organizationId, id: body.flow_id });
    if (!flow) throw new AppError('flow_not_found');
    const given = body.variables ?? {};
    const issues = checkVariables(flow.variables, given, ['body', 'variables']);
    if (issues.length > 0) throw new AppError('validation_error', { issues });
    const now = clock.now();
    await requireQuotaRoom(store, { organizationId, now });
    const scheduled = body.scheduled_at === undefined ? now : new Date(body.scheduled_at);
    const runAfter = scheduled.getTime() > now.getTime() ? scheduled : now;
    const result = await store.write(
      async (writers) => {
        const execution = await enqueueFlowExecution(writers, {
          organizationId,
          flow,
          triggerType: body.trigger_type,
          triggerData: body.trigger_data ?? {},
          variables: withDefaults(flow.variables, given),
          priority: body.priority ?? flow.priority ?? 'normal',
          runAfter,
          now,
          timeoutSeconds: body.timeout_seconds ?? flow.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS,
          retry: body.retry_config ?? flow.retry_config ?? DEFAULT_RETRY,
          metadata: body.metadata ?? {},
          maxAttempts: this.dependencies.maxAttempts,
          newId,
        });
        if (!execution) throw new AppError('flow_not_found');
        const message =
          execution.status === 'pending'
            ? `Flow execution scheduled for ${runAfter.toISOString()}`
            : 'Flow execution queued';
        return { execution: publicExecution(execution), message };
      },
      { idempotency: input.idempotency },
    );
    this.dependencies.wake();
    return result;
  }

  async list(input: ListInput) {
    const { page, pageSize } = input;
    const offset = (page - 1) * pageSize;
    const cursor = cursorOf({ before: input.before, after: input.after, offset });
    const range = utcTimeRange({ from: input.startedAfter, to: input.startedBefore });
    const listed = await this.dependencies.store.flowExecutions.list({
      ...input,
      startedAfter: range.from,
      startedBefore: range.to,
      limit: pageSize,
      offset,
      cursor,
    });
    if (!listed) throw cursorNotInList(cursor);
    const { executions, total, hasMore } = listed;
    return { executions, total_count: total, page, page_size: pageSize, has_more: hasMore };
  }

  async get(input: { organizationId: string; id: string }): Promise<FlowExecution> {
    const execution = await this.dependencies.store.runs.get(input);
    if (!execution) throw new AppError('flow_execution_not_found');
    return execution;
  }

  /**
   * Cancels a flow's execution: waiting → `cancelled` at once, its job cancelled with it;
   * running → `cancelled` too, and its handler stops (here through the job's signal, in another
   * process through its lease renewal or its cancel check) and adds the figures it got to.
   */
  async cancel(input: { organizationId: string; id: string }): Promise<FlowExecution> {
    const { store, clock } = this.dependencies;
    const now = clock.now().toISOString();
    const { execution, jobIds, published } = await store.write(async (writers) => {
      const current = await writers.flowExecutions.lock({ ...input, now });
      if (!current) throw new AppError('flow_execution_not_found');
      if (current.job_id === null) throw new AppError('flow_execution_not_cancellable');
      if (isFinished(current.status)) throw new AppError('flow_execution_finished');
      const cancelled = await writers.flowExecutions.move({
        ...input,
        from: PENDING_STATUSES,
        changes: { status: 'cancelled', completed_at: now, updated_at: now },
      });
      if (!cancelled) throw new AppError('flow_execution_finished');
      return { execution: cancelled, ...(await this.#ended(writers, cancelled, now)) };
    });
    this.#afterEnd({ jobIds, published });
    return execution;
  }

  /** In the transaction that ends an execution: its job cancelled, its `execution.<status>` published. */
  async #ended(writers: StoreWriters, execution: FlowExecution, now: string) {
    const { webhooks } = this.dependencies;
    const jobIds = await writers.jobs.cancelForSubject({
      organizationId: execution.organization_id,
      subjectId: execution.id,
      now,
    });
    const published = webhooks ? await publishExecutionEnd(webhooks, writers, { execution, now }) : 0;
    return { jobIds, published };
  }

  /** After that commit: the job stopped if it runs here, the delivery worker woken. */
  #afterEnd(ended: { jobIds: string[]; published: number }): void {
    for (const jobId of ended.jobIds) this.dependencies.cancelJob(jobId);
    if (ended.published > 0) this.dependencies.webhooks?.wake();
  }

  /**
   * PATCH: runtime-owned figures need an admin key (403 `insufficient_scope`); a finished
   * execution is never set back to pending/queued/running/retrying (409); `metadata` and
   * `performance_metrics` are merged into what is stored; every changed field is audited.
   * Setting a waiting or running flow execution to a finished status cancels its job and
   * publishes its `execution.<status>` webhook event, in the same transaction.
   */
  async update(input: {
    organizationId: string;
    id: string;
    changes: ExecutionFieldChanges;
    keyId: string | null;
    admin: boolean;
  }): Promise<FlowExecution> {
    const { store, clock, newId } = this.dependencies;
    const { changes } = input;
    if (!input.admin && ADMIN_FIELDS.some((field) => changes[field] !== undefined))
      throw new AppError('insufficient_scope');
    const now = clock.now().toISOString();
    const { execution, jobIds, published } = await store.write(async (writers) => {
      const before = await writers.flowExecutions.lock({ organizationId: input.organizationId, id: input.id, now });
      if (!before) throw new AppError('flow_execution_not_found');
      const status = changes.status;
      if (status !== undefined && isFinished(before.status) && UNFINISHED.includes(status))
        throw new AppError('flow_execution_finished');
      const merged: ExecutionFieldChanges = {
        ...changes,
        ...(changes.metadata ? { metadata: { ...before.metadata, ...changes.metadata } } : {}),
        ...(changes.performance_metrics
          ? { performance_metrics: { ...before.performance_metrics, ...changes.performance_metrics } }
          : {}),
      };
      const after = await writers.flowExecutions.patch({
        organizationId: input.organizationId,
        before,
        changes: merged,
        keyId: input.keyId,
        now,
        newId,
      });
      const ends = status !== undefined && isFinished(status) && !isFinished(before.status);
      if (!ends) return { execution: after, jobIds: [], published: 0 };
      // Ended by hand, it publishes its `execution.<status>` as an end by the runtime would.
      return { execution: after, ...(await this.#ended(writers, after, now)) };
    });
    this.#afterEnd({ jobIds, published });
    return execution;
  }

  async changes(input: { organizationId: string; id: string }): Promise<FlowExecutionChange[]> {
    await this.get(input);
    return this.dependencies.store.flowExecutions.changes({
      organizationId: input.organizationId,
      executionId: input.id,
    });
  }
}
