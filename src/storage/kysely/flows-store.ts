import type { Flow, FlowChanges, FlowSchedule, FlowVariable, NewFlow, RetryConfig } from '../../domain/flows.js';
import type { JsonObject, Page, Priority } from '../../domain/models.js';
import type { FlowRow, FlowScheduleRow } from './schema-flows.js';
import { parseJson, parseNullableJson, type Executor } from './executor.js';

function flowRowToFlow(row: FlowRow, schedules: FlowScheduleRow[]): Flow {
  return {
    id: row.id,
    organization_id: row.organization_id,
    agent_id: row.agent_id,
    name: row.name,
    description: row.description,
    instructions: row.instructions,
    variables: parseJson<FlowVariable[]>(row.variables),
    tools: parseJson<string[]>(row.tools),
    output_schema: parseNullableJson<JsonObject>(row.output_schema),
    timeout_seconds: row.timeout_seconds === null ? null : Number(row.timeout_seconds),
    priority: row.priority as Priority | null,
    retry_config: parseNullableJson<RetryConfig>(row.retry_config),
    schedules: schedules.map(scheduleRowToSchedule),
    metadata: parseJson<JsonObject>(row.metadata),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function scheduleRowToSchedule(row: FlowScheduleRow): FlowSchedule {
  return {
    id: row.id,
    cron: row.cron,
    timezone: row.timezone,
    variables: parseJson<JsonObject>(row.variables),
    next_run_at: row.next_run_at,
  };
}

function encodeNullable(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** The columns a flow's changes write (schedules live in their own table). */
function changesToColumns(changes: FlowChanges): Partial<FlowRow> {
  const set: Partial<FlowRow> = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.description !== undefined) set.description = changes.description;
  if (changes.instructions !== undefined) set.instructions = changes.instructions;
  if (changes.variables !== undefined) set.variables = JSON.stringify(changes.variables);
  if (changes.tools !== undefined) set.tools = JSON.stringify(changes.tools);
  if (changes.output_schema !== undefined) set.output_schema = encodeNullable(changes.output_schema);
  if (changes.timeout_seconds !== undefined) set.timeout_seconds = changes.timeout_seconds;
  if (changes.priority !== undefined) set.priority = changes.priority;
  if (changes.retry_config !== undefined) set.retry_config = encodeNullable(changes.retry_config);
  if (changes.metadata !== undefined) set.metadata = JSON.stringify(changes.metadata);
  return set;
}

export class FlowReader {
  constructor(private readonly db: Executor) {}

  /** The flow, in the organisation (and under the agent, when given); null otherwise. */
  async get(input: { organizationId: string; id: string; agentId?: string | undefined }): Promise<Flow | null> {
    let query = this.db
      .selectFrom('flows')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id);
    if (input.agentId !== undefined) query = query.where('agent_id', '=', input.agentId);
    const row = await query.executeTakeFirst();
    if (!row) return null;
    return flowRowToFlow(row, await this.#schedules(input.organizationId, [row.id]));
  }

  /** The agent's flows, oldest first. */
  async list(input: { organizationId: string; agentId: string } & Page): Promise<Flow[]> {
    const rows = await this.db
      .selectFrom('flows')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .orderBy('created_at')
      .orderBy('id')
      .limit(input.limit)
      .offset(input.offset)
      .execute();
    const schedules = await this.#schedules(
      input.organizationId,
      rows.map((row) => row.id),
    );
    return rows.map((row) =>
      flowRowToFlow(
        row,
        schedules.filter((schedule) => schedule.flow_id === row.id),
      ),
    );
  }

  async #schedules(organizationId: string, flowIds: string[]): Promise<FlowScheduleRow[]> {
    if (flowIds.length === 0) return [];
    return this.db
      .selectFrom('flow_schedules')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('flow_id', 'in', flowIds)
      .orderBy('flow_id')
      .orderBy('position')
      .execute();
  }
}

export class FlowWriter {
  readonly #reader: FlowReader;

  constructor(private readonly db: Executor) {
    this.#reader = new FlowReader(db);
  }

  get(input: { organizationId: string; id: string }): Promise<Flow | null> {
    return this.#reader.get(input);
  }

  async insert(flow: NewFlow): Promise<Flow> {
    await this.db
      .insertInto('flows')
      .values({
        id: flow.id,
        organization_id: flow.organization_id,
        agent_id: flow.agent_id,
        name: flow.name,
        description: flow.description,
        instructions: flow.instructions,
        variables: JSON.stringify(flow.variables),
        tools: JSON.stringify(flow.tools),
        output_schema: encodeNullable(flow.output_schema),
        timeout_seconds: flow.timeout_seconds,
        priority: flow.priority,
        retry_config: encodeNullable(flow.retry_config),
        metadata: JSON.stringify(flow.metadata),
        created_at: flow.created_at,
        updated_at: flow.updated_at,
      })
      .execute();
    await this.#insertSchedules(flow.organization_id, flow.id, flow.schedules, flow.created_at);
    return (await this.#reader.get({ organizationId: flow.organization_id, id: flow.id }))!;
  }

  /** Applies the changes; `schedules`, when given, replace the flow's schedules. Null: no such flow. */
  async update(input: {
    organizationId: string;
    agentId: string;
    id: string;
    changes: FlowChanges;
    now: string;
  }): Promise<Flow | null> {
    const result = await this.db
      .updateTable('flows')
      .set({ ...changesToColumns(input.changes), updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return null;
    if (input.changes.schedules !== undefined) {
      await this.db
        .deleteFrom('flow_schedules')
        .where('organization_id', '=', input.organizationId)
        .where('flow_id', '=', input.id)
        .execute();
      await this.#insertSchedules(input.organizationId, input.id, input.changes.schedules, input.now);
    }
    return this.#reader.get({ organizationId: input.organizationId, id: input.id });
  }

  /** Deletes the flow with its schedules and slots; its executions stay (they are history). */
  async delete(input: { organizationId: string; agentId: string; id: string }): Promise<boolean> {
    const result = await this.db
      .deleteFrom('flows')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * The flow's next execution number: the counter on its row, bumped in the caller's
   * transaction, so concurrent executes (any process) get distinct numbers. Null: no such flow.
   */
  async nextExecutionNumber(input: { organizationId: string; id: string }): Promise<number | null> {
    const counter = await this.db
      .updateTable('flows')
      .set((eb) => ({ last_execution_number: eb('last_execution_number', '+', 1) }))
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .returning('last_execution_number')
      .executeTakeFirst();
    return counter ? Number(counter.last_execution_number) : null;
  }

  /**
   * Claims one slot of a schedule for the scheduler (a later task): true for the one caller, in
   * any process, whose insert of (schedule, slot time) wins — it enqueues the slot's execution in
   * the same transaction; false for every other (the primary key refuses a second row).
   */
  async claimScheduleSlot(input: {
    organizationId: string;
    scheduleId: string;
    slotAt: string;
    executionId: string;
    now: string;
  }): Promise<boolean> {
    const inserted = await this.db
      .insertInto('flow_schedule_slots')
      .values({
        schedule_id: input.scheduleId,
        slot_at: input.slotAt,
        organization_id: input.organizationId,
        execution_id: input.executionId,
        created_at: input.now,
      })
      .onConflict((conflict) => conflict.columns(['schedule_id', 'slot_at']).doNothing())
      .returning('slot_at')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async #insertSchedules(organizationId: string, flowId: string, schedules: FlowSchedule[], now: string) {
    if (schedules.length === 0) return;
    await this.db
      .insertInto('flow_schedules')
      .values(
        schedules.map((schedule, position) => ({
          id: schedule.id,
          organization_id: organizationId,
          flow_id: flowId,
          position,
          cron: schedule.cron,
          timezone: schedule.timezone,
          variables: JSON.stringify(schedule.variables),
          next_run_at: schedule.next_run_at,
          created_at: now,
        })),
      )
      .execute();
  }
}
