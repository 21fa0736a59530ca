import type {
  ExecutionStatus,
  ExecutionStep,
  FlowExecution,
  JsonObject,
  Priority,
  TriggerType,
} from '../../domain/models.js';
import type { InterruptedRun, NewRun, PausedRun, RunCheckpoint, RunCompletion } from '../../domain/runs.js';
import type { FlowExecutionRow } from './schema.js';
import { parseJson, parseNullableJson, type Executor } from './executor.js';
import { failOrphanedRuns, failRunsById, findOrphanedRuns, type OrphanRules } from './orphaned-runs.js';

export function flowExecutionRowToFlowExecution(row: FlowExecutionRow): FlowExecution {
  return {
    id: row.id,
    flow_id: row.flow_id,
    agent_id: row.agent_id,
    organization_id: row.organization_id,
    thread_id: row.thread_id,
    message_id: row.message_id,
    job_id: row.job_id,
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

function newRunToRow(run: NewRun, executionNumber: number, processId: string | null): FlowExecutionRow {
  return {
    ...run,
    execution_number: executionNumber,
    process_id: processId,
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

/** The statuses of a run stopped at a step boundary: `queued` to go on, `pending` for approvals. */
export type WaitingStatus = 'queued' | 'pending';

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

  /**
   * A run that stopped at a step boundary (status `queued`, or `pending` while it waits for tool
   * approvals, with a checkpoint), or null.
   */
  async paused(input: { organizationId: string; id: string; status?: WaitingStatus }): Promise<PausedRun | null> {
    const row = await this.db
      .selectFrom('flow_executions')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', input.status ?? 'queued')
      .where('checkpoint', 'is not', null)
      .executeTakeFirst();
    if (!row || row.checkpoint === null) return null;
    return { execution: flowExecutionRowToFlowExecution(row), checkpoint: parseJson<RunCheckpoint>(row.checkpoint) };
  }

  /** Whether any run is orphaned (see findOrphanedRuns): a cheap look before a write. */
  async anyOrphaned(rules: OrphanRules): Promise<boolean> {
    return (await findOrphanedRuns(this.db, rules, 1)).length > 0;
  }
}

export class RunWriter {
  constructor(private readonly db: Executor) {}

  /** A run as this transaction sees it (recovery publishes the runs it has just failed). */
  get(input: { organizationId: string; id: string }): Promise<FlowExecution | null> {
    return new RunReader(this.db).get(input);
  }

  /**
   * Fails the runs whose process died (see findOrphanedRuns): the execution `failed` as
   * interrupted, the reply marked so, the thread freed. Returns those this call failed.
   */
  failOrphaned(rules: OrphanRules): Promise<InterruptedRun[]> {
    return failOrphanedRuns(this.db, rules);
  }

  /** The same for named runs (one whose thread lease was taken over), if they are still running. */
  failInterrupted(input: { now: string; ids: string[] }): Promise<InterruptedRun[]> {
    return failRunsById(this.db, input);
  }

  /**
   * Inserts a run with the next `execution_number` of its agent. The counter on the agent row is
   * bumped in the same transaction, so concurrent runs (any process) get distinct numbers.
   * `processId` is the boot id of the process that runs it. Returns null when the agent is not
   * in the organisation.
   */
  async insert(run: NewRun, processId: string | null = null): Promise<FlowExecution | null> {
    const counter = await this.db
      .updateTable('agents')
      .set((eb) => ({ last_execution_number: eb('last_execution_number', '+', 1) }))
      .where('organization_id', '=', run.organization_id)
      .where('id', '=', run.agent_id)
      .returning('last_execution_number')
      .executeTakeFirst();
    if (!counter) return null;
    const executionNumber = Number(counter.last_execution_number);
    await this.db
      .insertInto('flow_executions')
      .values(newRunToRow(run, executionNumber, processId))
      .execute();
    return { ...run, execution_number: executionNumber };
  }

  /**
   * Changes a run (its end, typically). A run that leaves `queued` or `running` loses its
   * checkpoint: an ended run has nothing to resume. With `whileRunning`, only a run still
   * `running` is changed (null otherwise): recovery may have failed it meanwhile.
   */
  async update(input: {
    organizationId: string;
    id: string;
    changes: Partial<RunCompletion>;
    whileRunning?: boolean;
  }): Promise<FlowExecution | null> {
    const { status } = input.changes;
    const ended = status !== undefined && status !== 'queued' && status !== 'pending' && status !== 'running';
    let query = this.db
      .updateTable('flow_executions')
      .set({ ...changesToColumns(input.changes), ...(ended ? { checkpoint: null } : {}) })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id);
    if (input.whileRunning === true) query = query.where('status', '=', 'running');
    const row = await query.returningAll().executeTakeFirst();
    return row ? flowExecutionRowToFlowExecution(row) : null;
  }

  /**
   * Stops a running run at a step boundary: its place is recorded and its status becomes
   * `queued` (or `pending`, waiting for tool approvals, with `steps` as they stand), to be
   * resumed later by any process. False when the run is gone or no longer running (recovery
   * failed it).
   */
  async pause(input: {
    organizationId: string;
    id: string;
    checkpoint: RunCheckpoint;
    now: string;
    status?: WaitingStatus;
    steps?: ExecutionStep[];
  }): Promise<boolean> {
    const result = await this.db
      .updateTable('flow_executions')
      .set({
        checkpoint: JSON.stringify(input.checkpoint),
        status: input.status ?? 'queued',
        updated_at: input.now,
        ...(input.steps ? { steps: JSON.stringify(input.steps) } : {}),
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Takes a stopped run back (`queued` → `running`) for the process `processId`. Only one caller
   * wins, in any process: the others get false.
   */
  async resume(input: {
    organizationId: string;
    id: string;
    now: string;
    processId: string;
    status?: WaitingStatus;
  }): Promise<boolean> {
    const result = await this.db
      .updateTable('flow_executions')
      .set({ status: 'running', updated_at: input.now, process_id: input.processId })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', input.status ?? 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Locks a run waiting for approvals (`pending`) for the rest of the transaction, so decisions
   * on its calls are taken one at a time (on PostgreSQL, the row lock; SQLite has one writer):
   * the last one sees every other and resumes the run. False when it is not waiting.
   */
  async lockWaiting(input: { organizationId: string; id: string; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('flow_executions')
      .set({ updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
