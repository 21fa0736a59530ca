import type { Agent, AgentChanges, JsonObject, NewAgent, Page } from '../../domain/models.js';
import type { AgentRow } from './schema.js';
import { parseJson, parseNullableJson, type Executor } from './executor.js';
import type { AgentFile } from '../../domain/agent-files.js';
import { AgentFileReader } from './agent-files-store.js';

/** An agent's executions of its flows: finished `completed`, and still waiting or running. */
export interface FlowCounts {
  completed: number;
  pending: number;
}

const NO_FLOW_COUNTS: FlowCounts = { completed: 0, pending: 0 };

function agentRowToAgent(row: AgentRow, files: AgentFile[] = [], counts: FlowCounts = NO_FLOW_COUNTS): Agent {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    avatar_url: row.avatar_url,
    configuration: parseJson<JsonObject>(row.configuration),
    template_id: row.template_id,
    organization_id: row.organization_id,
    status: row.status,
    metadata: parseJson<JsonObject>(row.metadata),
    files,
    team_id: parseNullableJson<string[]>(row.team_id),
    completed_flows_count: counts.completed,
    pending_flows_count: counts.pending,
    bot_sub: row.bot_sub,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const PENDING_FLOW_STATUSES = ['pending', 'queued', 'running', 'retrying'];

/**
 * The agents' flow counters, counted from the executions of their flows (those run by the job
 * queue: `job_id` set; chat runs are not flows' executions). One grouped, indexed query per read.
 */
async function flowCountsOf(
  db: Executor,
  organizationId: string,
  agentIds: string[],
): Promise<Map<string, FlowCounts>> {
  const counts = new Map<string, FlowCounts>();
  if (agentIds.length === 0) return counts;
  const rows = await db
    .selectFrom('flow_executions')
    .select(['agent_id', 'status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('organization_id', '=', organizationId)
    .where('agent_id', 'in', agentIds)
    .where('job_id', 'is not', null)
    .where('status', 'in', ['completed', ...PENDING_FLOW_STATUSES])
    .groupBy(['agent_id', 'status'])
    .execute();
  for (const row of rows) {
    const entry = counts.get(row.agent_id) ?? { completed: 0, pending: 0 };
    if (row.status === 'completed') entry.completed += Number(row.count);
    else entry.pending += Number(row.count);
    counts.set(row.agent_id, entry);
  }
  return counts;
}

function agentToRow(agent: NewAgent): AgentRow {
  return {
    id: agent.id,
    organization_id: agent.organization_id,
    template_id: agent.template_id,
    name: agent.name,
    description: agent.description,
    avatar_url: agent.avatar_url,
    configuration: JSON.stringify(agent.configuration),
    metadata: JSON.stringify(agent.metadata),
    status: agent.status,
    team_id: encodeTeamId(agent.team_id),
    bot_sub: agent.bot_sub,
    created_at: agent.created_at,
    updated_at: agent.updated_at,
  };
}

function encodeTeamId(teamId: string[] | null): string | null {
  return teamId === null ? null : JSON.stringify(teamId);
}

export class AgentReader {
  readonly #files: AgentFileReader;

  constructor(private readonly db: Executor) {
    this.#files = new AgentFileReader(db);
  }

  async get(input: { organizationId: string; id: string }): Promise<Agent | null> {
    const row = await this.db
      .selectFrom('agents')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (!row) return null;
    const files = await this.#files.ofAgents({ organizationId: input.organizationId, agentIds: [row.id] });
    const counts = await flowCountsOf(this.db, input.organizationId, [row.id]);
    return agentRowToAgent(row, files.get(row.id), counts.get(row.id));
  }

  /** The organisation an agent belongs to, by the agent's id alone: for the operator's CLI only. */
  async organizationOf(id: string): Promise<string | null> {
    const row = await this.db.selectFrom('agents').select('organization_id').where('id', '=', id).executeTakeFirst();
    return row?.organization_id ?? null;
  }

  async list(input: { organizationId: string; status?: string | undefined } & Page): Promise<Agent[]> {
    let query = this.db.selectFrom('agents').selectAll().where('organization_id', '=', input.organizationId);
    if (input.status !== undefined) query = query.where('status', '=', input.status);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(input.limit)
      .offset(input.offset)
      .execute();
    const files = await this.#files.ofAgents({
      organizationId: input.organizationId,
      agentIds: rows.map((row) => row.id),
    });
    const counts = await flowCountsOf(
      this.db,
      input.organizationId,
      rows.map((row) => row.id),
    );
    return rows.map((row) => agentRowToAgent(row, files.get(row.id), counts.get(row.id)));
  }
}

export class AgentWriter {
  constructor(private readonly db: Executor) {}

  /** Returns the agent as a reader will see it: through the one row mapper, not the input echoed. */
  async insert(agent: NewAgent): Promise<Agent> {
    const row = agentToRow(agent);
    await this.db.insertInto('agents').values(row).execute();
    return agentRowToAgent(row);
  }

  async update(input: {
    organizationId: string;
    id: string;
    changes: AgentChanges;
    now: string;
  }): Promise<Agent | null> {
    const { changes } = input;
    const set: Partial<AgentRow> = { updated_at: input.now };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.avatar_url !== undefined) set.avatar_url = changes.avatar_url;
    if (changes.status !== undefined) set.status = changes.status;
    if (changes.configuration !== undefined) set.configuration = JSON.stringify(changes.configuration);
    if (changes.metadata !== undefined) set.metadata = JSON.stringify(changes.metadata);
    if (changes.team_id !== undefined) set.team_id = encodeTeamId(changes.team_id);
    const row = await this.db
      .updateTable('agents')
      .set(set)
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    if (!row) return null;
    const files = await new AgentFileReader(this.db).ofAgents({
      organizationId: input.organizationId,
      agentIds: [row.id],
    });
    const counts = await flowCountsOf(this.db, input.organizationId, [row.id]);
    return agentRowToAgent(row, files.get(row.id), counts.get(row.id));
  }

  /**
   * Deletes the agent and, through foreign-key cascades, its threads, its knowledge files and
   * everything in them (the files' bytes are the caller's: `agentFiles.storageKeysOfAgent` first).
   */
  async delete(input: { organizationId: string; id: string }): Promise<boolean> {
    const result = await this.db
      .deleteFrom('agents')
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
