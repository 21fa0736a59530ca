import type { FlowExecutionChange } from '../../domain/flows.js';
import type { ExecutionStatus, FlowExecution, JsonObject } from '../../domain/models.js';
import type { NewRun } from '../../domain/runs.js';
import type { FlowExecutionRow } from './schema.js';
import { parseNullableJson, type Executor } from './executor.js';
import { readKeysetPage, type KeysetCursor } from './keyset-page.js';
import { flowExecutionRowToFlowExecution } from './runs-store.js';

/**
 * Flow executions as lists and as flows' runs (docs/flows.md): the list with its filters and
 * cursors (chat runs included, as before), a flow's execution enqueued by the job queue, its
 * status moves (each conditional on the status it leaves, so a cancel and the runner's end
 * never both win), PATCH with its audit rows.
 */

/** Statuses an execution of a flow is waiting or running in (the agent's `pending_flows_count`). */
export const PENDING_STATUSES: readonly ExecutionStatus[] = ['pending', 'queued', 'running', 'retrying'];

export interface ExecutionListFilter {
  organizationId: string;
  flowId?: string | undefined;
  agentId?: string | undefined;
  status?: string | undefined;
  triggerType?: string | undefined;
  startedAfter?: string | undefined;
  startedBefore?: string | undefined;
}

/** The columns PATCH may write, domain-shaped (JSON fields as values). */
export type ExecutionFieldChanges = Partial<
  Pick<
    FlowExecution,
    | 'status'
    | 'completed_at'
    | 'duration_ms'
    | 'final_output'
    | 'error_message'
    | 'error_details'
    | 'retry_count'
    | 'tokens_used'
    | 'tool_calls_count'
    | 'cost_estimate'
    | 'performance_metrics'
    | 'metadata'
  >
>;

const JSON_FIELDS = new Set(['final_output', 'error_details', 'performance_metrics', 'metadata', 'steps']);

function fieldsToColumns(changes: Record<string, unknown>): Partial<FlowExecutionRow> {
  const set: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    set[field] = JSON_FIELDS.has(field) && value !== null ? JSON.stringify(value) : value;
  }
  return set as Partial<FlowExecutionRow>;
}

export class FlowExecutionReader {
  constructor(private readonly db: Executor) {}

  /**
   * Newest first (by `created_at`, then id), with the total for `total_count`; an offset page
   * or a keyset page around `cursor`, and whether more lie beyond it in its direction (one row
   * more is read to tell). Null: the cursor is not an execution of this list.
   */
  async list(
    input: ExecutionListFilter & { limit: number; offset: number; cursor: KeysetCursor | null },
  ): Promise<{ executions: FlowExecution[]; total: number; hasMore: boolean } | null> {
    let query = this.db.selectFrom('flow_executions').where('organization_id', '=', input.organizationId);
    if (input.flowId !== undefined) query = query.where('flow_id', '=', input.flowId);
    if (input.agentId !== undefined) query = query.where('agent_id', '=', input.agentId);
    if (input.status !== undefined) query = query.where('status', '=', input.status);
    if (input.triggerType !== undefined) query = query.where('trigger_type', '=', input.triggerType);
    if (input.startedAfter !== undefined) query = query.where('started_at', '>=', input.startedAfter);
    if (input.startedBefore !== undefined) query = query.where('started_at', '<', input.startedBefore);
    const [rows, count] = await Promise.all([
      readKeysetPage(query.selectAll(), {
        order: 'desc',
        cursor: input.cursor,
        limit: input.limit + 1,
        offset: input.offset,
        position: (id) => query.select(['created_at', 'id']).where('id', '=', id),
      }),
      query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
    ]);
    if (rows === null) return null;
    const hasMore = rows.length > input.limit;
    // A `before` page ends at its cursor: the extra row is the one furthest from it, first.
    const page = !hasMore ? rows : input.cursor?.direction === 'before' ? rows.slice(1) : rows.slice(0, input.limit);
    return { executions: page.map(flowExecutionRowToFlowExecution), total: Number(count.count), hasMore };
  }

  /**
   * The journal of a flow's execution (flow-journal.ts): its model steps and completed tool
   * calls so far, as the attempt that held its job last wrote them; null when none was written.
   */
  async journal(input: { organizationId: string; id: string }): Promise<JsonObject | null> {
    const row = await this.db
      .selectFrom('flow_executions')
      .select('checkpoint')
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? parseNullableJson<JsonObject>(row.checkpoint) : null;
  }

  /** The audited changes of an execution, oldest first. */
  async changes(input: { organizationId: string; executionId: string }): Promise<FlowExecutionChange[]> {
    const rows = await this.db
      .selectFrom('flow_execution_changes')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('execution_id', '=', input.executionId)
      .orderBy('changed_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      execution_id: row.execution_id,
      key_id: row.key_id,
      field: row.field,
      old_value: parseNullableJson<unknown>(row.old_value),
      new_value: parseNullableJson<unknown>(row.new_value),
      changed_at: row.changed_at,
    }));
  }
}

export class FlowExecutionWriter {
  constructor(private readonly db: Executor) {}

  /** Inserts a flow's execution, numbered by the caller from the flow's counter. */
  async insert(input: { run: NewRun; executionNumber: number }): Promise<FlowExecution> {
    const { run } = input;
    const row: FlowExecutionRow = {
      ...run,
      execution_number: input.executionNumber,
      trigger_data: JSON.stringify(run.trigger_data),
      variables: JSON.stringify(run.variables),
      steps: JSON.stringify(run.steps),
      final_output: run.final_output === null ? null : JSON.stringify(run.final_output),
      error_details: run.error_details === null ? null : JSON.stringify(run.error_details),
      performance_metrics: JSON.stringify(run.performance_metrics),
      metadata: JSON.stringify(run.metadata),
      checkpoint: null,
      process_id: null,
    };
    await this.db.insertInto('flow_executions').values(row).execute();
    return flowExecutionRowToFlowExecution(row);
  }

  /**
   * Moves the execution from one of `from` to the changes' status (and fields); null when it
   * is not in one of them (another writer moved it first), or not in the organisation.
   */
  async move(input: {
    organizationId: string;
    id: string;
    from: readonly ExecutionStatus[];
    changes: Record<string, unknown>;
  }): Promise<FlowExecution | null> {
    const row = await this.db
      .updateTable('flow_executions')
      .set(fieldsToColumns(input.changes))
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', 'in', [...input.from])
      .returningAll()
      .executeTakeFirst();
    return row ? flowExecutionRowToFlowExecution(row) : null;
  }

  /**
   * Writes the journal of a running execution (kept in its `checkpoint` column, which only
   * chat runs used before) if `attempt` still holds the execution's job: the job is `running`
   * under the attempt's fencing token. False otherwise — the lease lapsed and another claim
   * raised the token, or the job ended — and nothing is written.
   */
  async journal(input: {
    organizationId: string;
    id: string;
    attempt: { jobId: string; token: number };
    journal: JsonObject;
    now: string;
  }): Promise<boolean> {
    const { attempt } = input;
    const result = await this.db
      .updateTable('flow_executions')
      .set({ checkpoint: JSON.stringify(input.journal), updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', 'running')
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('jobs')
            .select('jobs.id')
            .where('jobs.id', '=', attempt.jobId)
            .where('jobs.status', '=', 'running')
            .where('jobs.lease_token', '=', attempt.token),
        ),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The execution, locked for the rest of the transaction on PostgreSQL (SQLite has one writer). */
  async lock(input: { organizationId: string; id: string; now: string }): Promise<FlowExecution | null> {
    const row = await this.db
      .updateTable('flow_executions')
      .set({ updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    return row ? flowExecutionRowToFlowExecution(row) : null;
  }

  /** Writes PATCH's changes and one audit row per changed field, in the caller's transaction. */
  async patch(input: {
    organizationId: string;
    before: FlowExecution;
    changes: ExecutionFieldChanges;
    keyId: string | null;
    now: string;
    newId: () => string;
  }): Promise<FlowExecution> {
    const { before } = input;
    const row = await this.db
      .updateTable('flow_executions')
      .set({ ...fieldsToColumns(input.changes), updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const audit = Object.entries(input.changes)
      .filter(([, value]) => value !== undefined)
      .filter(([field, value]) => encode((before as unknown as Record<string, unknown>)[field]) !== encode(value))
      .map(([field, value]) => ({
        id: input.newId(),
        organization_id: input.organizationId,
        execution_id: before.id,
        key_id: input.keyId,
        field,
        old_value: encode((before as unknown as Record<string, unknown>)[field]),
        new_value: encode(value),
        changed_at: input.now,
      }));
    if (audit.length > 0) await this.db.insertInto('flow_execution_changes').values(audit).execute();
    return flowExecutionRowToFlowExecution(row);
  }
}

function encode(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
