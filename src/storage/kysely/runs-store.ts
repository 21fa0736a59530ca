import type {
  ExecutionStatus,
  ExecutionStep,
  FlowExecution,
  JsonObject,
  Priority,
  TriggerType,
} from '../../domain/models.js';
import {
  INTERRUPTED_ERROR,
  type InterruptedRun,
  type NewRun,
  type PausedRun,
  type RunCheckpoint,
  type RunCompletion,
} from '../../domain/runs.js';
import type { FlowExecutionRow } from './schema.js';
import { MessageReader } from './messages-store.js';
import { parseJson, parseNullableJson, type Executor } from './executor.js';

export function flowExecutionRowToFlowExecution(row: FlowExecutionRow): FlowExecution {
  return {
    id: row.id,
    flow_id: row.flow_id,
    agent_id: row.agent_id,
    organization_id: row.organization_id,
    thread_id: row.thread_id,
    message_id: row.message_id,
    execution_number: Number(row.execution_number),
    trigger_type: row.trigger_type as TriggerType,
    trigger_data: parseJson<JsonObject>(row.trigger_data),
    variables: parseJson<JsonObject>(row.variables),
    priority: row.priority as Priority,
    status: row.status as ExecutionStatus,
    started_at: row.started_at,
    completed_at: row.completed_at,
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    timeout_seconds: Number(row.timeout_seconds),
    steps: parseJson<ExecutionStep[]>(row.steps),
    final_output: parseNullableJson<JsonObject>(row.final_output),
    error_message: row.error_message,
    error_details: parseNullableJson<JsonObject>(row.error_details),
    retry_count: Number(row.retry_count),
    max_retries: Number(row.max_retries),
    parent_execution_id: row.parent_execution_id,
    tokens_used: row.tokens_used === null ? null : Number(row.tokens_used),
    tool_calls_count: Number(row.tool_calls_count),
    cost_estimate: row.cost_estimate === null ? null : Number(row.cost_estimate),
    performance_metrics: parseJson<JsonObject>(row.performance_metrics),
    metadata: parseJson<JsonObject>(row.metadata),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function newRunToRow(run: NewRun, executionNumber: number): FlowExecutionRow {
  return {
    ...run,
    execution_number: executionNumber,
    trigger_data: JSON.stringify(run.trigger_data),
    variables: JSON.stringify(run.variables),
    steps: JSON.stringify(run.steps),
    final_output: encodeNullable(run.final_output),
    error_details: encodeNullable(run.error_details),
    performance_metrics: JSON.stringify(run.performance_metrics),
    metadata: JSON.stringify(run.metadata),
    checkpoint: null,
  };
}

function changesToColumns(changes: Partial<RunCompletion>): Partial<FlowExecutionRow> {
  const {
    steps,
    final_output: finalOutput,
    error_details: errorDetails,
    performance_metrics: metrics,
    ...plain
  } = changes;
  return {
    ...plain,
    ...(steps !== undefined ? { steps: JSON.stringify(steps) } : {}),
    ...(finalOutput !== undefined ? { final_output: encodeNullable(finalOutput) } : {}),
    ...(errorDetails !== undefined ? { error_details: encodeNullable(errorDetails) } : {}),
    ...(metrics !== undefined ? { performance_metrics: JSON.stringify(metrics) } : {}),
  };
}

function encodeNullable(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

export interface FlowExecutionFilter {
  organizationId: string;
  flowId?: string | undefined;
  agentId?: string | undefined;
  status?: string | undefined;
  triggerType?: string | undefined;
}

export class RunReader {
  constructor(private readonly db: Executor) {}

  async get(input: { organizationId: string; id: string }): Promise<FlowExecution | null> {
    const row = await this.db
      .selectFrom('flow_executions')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? flowExecutionRowToFlowExecution(row) : null;
  }

  /** A run that stopped at a step boundary (status `queued` with a checkpoint), or null. */
  async paused(input: { organizationId: string; id: string }): Promise<PausedRun | null> {
    const row = await this.db
      .selectFrom('flow_executions')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', 'queued')
      .where('checkpoint', 'is not', null)
      .executeTakeFirst();
    if (!row || row.checkpoint === null) return null;
    return { execution: flowExecutionRowToFlowExecution(row), checkpoint: parseJson<RunCheckpoint>(row.checkpoint) };
  }

  /** Newest first, with the total for the contract's `total_count`. */
  async list(
    input: FlowExecutionFilter & { limit: number; offset: number },
  ): Promise<{ executions: FlowExecution[]; total: number }> {
    let query = this.db.selectFrom('flow_executions').where('organization_id', '=', input.organizationId);
    if (input.flowId !== undefined) query = query.where('flow_id', '=', input.flowId);
    if (input.agentId !== undefined) query = query.where('agent_id', '=', input.agentId);
    if (input.status !== undefined) query = query.where('status', '=', input.status);
    if (input.triggerType !== undefined) query = query.where('trigger_type', '=', input.triggerType);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .limit(input.limit)
        .offset(input.offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
    ]);
    return { executions: rows.map(flowExecutionRowToFlowExecution), total: Number(count.count) };
  }
}

export class RunWriter {
  constructor(private readonly db: Executor) {}

  failOrphaned(now: string, options: { ignoreLeases?: boolean } = {}): Promise<InterruptedRun[]> {
    return failOrphanedRuns(this.db, now, options);
  }

  /**
   * Inserts a run with the next `execution_number` of its agent. The counter on the agent row is
   * bumped in the same transaction, so concurrent runs (any process) get distinct numbers.
   * Returns null when the agent is not in the organisation.
   */
  async insert(run: NewRun): Promise<FlowExecution | null> {
    const counter = await this.db
      .updateTable('agents')
      .set((eb) => ({ last_execution_number: eb('last_execution_number', '+', 1) }))
      .where('organization_id', '=', run.organization_id)
      .where('id', '=', run.agent_id)
      .returning('last_execution_number')
      .executeTakeFirst();
    if (!counter) return null;
    const executionNumber = Number(counter.last_execution_number);
    await this.db.insertInto('flow_executions').values(newRunToRow(run, executionNumber)).execute();
    return { ...run, execution_number: executionNumber };
  }

  /**
   * Changes a run (its end, typically). A run that leaves `queued` or `running` loses its
   * checkpoint: an ended run has nothing to resume.
   */
  async update(input: {
    organizationId: string;
    id: string;
    changes: Partial<RunCompletion>;
  }): Promise<FlowExecution | null> {
    const { status } = input.changes;
    const ended = status !== undefined && status !== 'queued' && status !== 'running';
    const row = await this.db
      .updateTable('flow_executions')
      .set({ ...changesToColumns(input.changes), ...(ended ? { checkpoint: null } : {}) })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    return row ? flowExecutionRowToFlowExecution(row) : null;
  }

  /**
   * Stops a running run at a step boundary: its place is recorded and its status becomes
   * `queued`, to be resumed later by any process. False when the run is gone.
   */
  async pause(input: { organizationId: string; id: string; checkpoint: RunCheckpoint; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('flow_executions')
      .set({ checkpoint: JSON.stringify(input.checkpoint), status: 'queued', updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Takes a stopped run back (`queued` → `running`). Only one caller wins, in any process: the
   * others get false.
   */
  async resume(input: { organizationId: string; id: string; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('flow_executions')
      .set({ status: 'running', updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

/**
 * Runs left `running` by a process that died: their thread lease has lapsed or moved on. They are
 * failed, and their unfinished reply says it was interrupted. Safe to call from any process at
 * any time: a live run's lease is never lapsed. `ignoreLeases` treats every running run as dead:
 * right for a server starting on SQLite, which is only ever used by one server process.
 */
export async function failOrphanedRuns(
  db: Executor,
  now: string,
  options: { ignoreLeases?: boolean } = {},
): Promise<InterruptedRun[]> {
  const orphans = await db
    .selectFrom('flow_executions')
    .leftJoin('chat_threads', 'chat_threads.id', 'flow_executions.thread_id')
    .select([
      'flow_executions.id',
      'flow_executions.organization_id',
      'flow_executions.thread_id',
      'flow_executions.message_id',
    ])
    .where('flow_executions.status', '=', 'running')
    .where((eb) =>
      eb.or([
        eb.lit(options.ignoreLeases === true),
        eb('chat_threads.id', 'is', null),
        eb('chat_threads.active_run_id', 'is', null),
        eb('chat_threads.active_run_id', '!=', eb.ref('flow_executions.id')),
        eb('chat_threads.active_run_expires_at', '<=', now),
      ]),
    )
    .execute();
  for (const orphan of orphans) {
    await db
      .updateTable('flow_executions')
      .set({
        status: 'failed',
        completed_at: now,
        updated_at: now,
        error_message: INTERRUPTED_ERROR.message,
        error_details: JSON.stringify({ code: INTERRUPTED_ERROR.code }),
      })
      .where('id', '=', orphan.id)
      .where('status', '=', 'running')
      .execute();
    if (orphan.message_id !== null) {
      await db
        .updateTable('chat_messages')
        .set({ metadata: JSON.stringify({ run_id: orphan.id, flow_execution_id: orphan.id, status: 'interrupted' }) })
        .where('id', '=', orphan.message_id)
        .where('organization_id', '=', orphan.organization_id)
        .execute();
    }
    await db
      .updateTable('chat_threads')
      .set({ active_run_id: null, active_run_expires_at: null })
      .where('active_run_id', '=', orphan.id)
      .execute();
  }
  return withReplies(db, orphans);
}

/** The failed runs with their replies as the failure left them (read in the same transaction). */
async function withReplies(
  db: Executor,
  runs: { id: string; organization_id: string; thread_id: string | null; message_id: string | null }[],
): Promise<InterruptedRun[]> {
  const interrupted: InterruptedRun[] = [];
  const messages = new MessageReader(db);
  for (const run of runs) {
    const key = { organizationId: run.organization_id, id: run.message_id ?? '' };
    const reply = run.message_id === null ? null : await messages.get(key);
    interrupted.push({ runId: run.id, organizationId: run.organization_id, threadId: run.thread_id, reply });
  }
  return interrupted;
}
