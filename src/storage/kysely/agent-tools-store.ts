import { sql } from 'kysely';
import {
  MAX_TOOLS_PER_AGENT,
  type AgentToolChanges,
  type StoredAgentTool,
  type ToolType,
} from '../../domain/agent-tools.js';
import type { JsonObject } from '../../domain/models.js';
import type { AgentToolRow } from './schema.js';
import { parseNullableJson, type Executor } from './executor.js';
import { insertUnderAgent } from './insert-under-agent.js';

function agentToolRowToTool(row: AgentToolRow): StoredAgentTool {
  return {
    id: row.id,
    organization_id: row.organization_id,
    agent_id: row.agent_id,
    tool_name: row.tool_name,
    // Only the API writes this column, and it writes only the contract's types.
    tool_type: row.tool_type as ToolType,
    configuration: parseNullableJson<JsonObject>(row.configuration),
    is_enabled: row.is_enabled === 1,
    mcp_server_id: row.mcp_server_id,
    external_tool_connection_id: row.external_tool_connection_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function toolToRow(tool: StoredAgentTool): AgentToolRow {
  return {
    id: tool.id,
    organization_id: tool.organization_id,
    agent_id: tool.agent_id,
    tool_name: tool.tool_name,
    tool_type: tool.tool_type,
    configuration: tool.configuration === null ? null : JSON.stringify(tool.configuration),
    is_enabled: tool.is_enabled ? 1 : 0,
    mcp_server_id: tool.mcp_server_id,
    external_tool_connection_id: tool.external_tool_connection_id,
    created_at: tool.created_at,
    updated_at: tool.updated_at,
  };
}

interface AgentToolKey {
  organizationId: string;
  agentId: string;
  id: string;
}

export type InsertToolResult =
  | { kind: 'created'; tool: StoredAgentTool }
  | { kind: 'agent_not_found' }
  | { kind: 'name_taken' }
  | { kind: 'too_many_tools' };

export type UpdateToolResult =
  { kind: 'updated'; tool: StoredAgentTool } | { kind: 'not_found' } | { kind: 'name_taken' };

export class AgentToolReader {
  constructor(private readonly db: Executor) {}

  async get(input: AgentToolKey): Promise<StoredAgentTool | null> {
    const row = await this.db
      .selectFrom('agent_tools')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? agentToolRowToTool(row) : null;
  }

  /**
   * The agent's tools in the order they were added (then by id), at most MAX_TOOLS_PER_AGENT,
   * which is also as many as an agent can have.
   */
  async list(input: {
    organizationId: string;
    agentId: string;
    toolType?: ToolType | undefined;
    isEnabled?: boolean | undefined;
  }): Promise<StoredAgentTool[]> {
    let query = this.db
      .selectFrom('agent_tools')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId);
    if (input.toolType !== undefined) query = query.where('tool_type', '=', input.toolType);
    if (input.isEnabled !== undefined) query = query.where('is_enabled', '=', input.isEnabled ? 1 : 0);
    const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(MAX_TOOLS_PER_AGENT).execute();
    return rows.map(agentToolRowToTool);
  }

  /** The tools that came from one MCP server (its catalogue), in the order they were added. */
  async listForServer(input: { organizationId: string; serverId: string }): Promise<StoredAgentTool[]> {
    const rows = await this.db
      .selectFrom('agent_tools')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('mcp_server_id', '=', input.serverId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(MAX_TOOLS_PER_AGENT)
      .execute();
    return rows.map(agentToolRowToTool);
  }
}

export class AgentToolWriter {
  readonly #reader: AgentToolReader;

  constructor(private readonly db: Executor) {
    this.#reader = new AgentToolReader(db);
  }

  listForServer(input: { organizationId: string; serverId: string }): Promise<StoredAgentTool[]> {
    return this.#reader.listForServer(input);
  }

  /** The names of every tool of the agent (at most MAX_TOOLS_PER_AGENT). */
  async listNames(input: { organizationId: string; agentId: string }): Promise<string[]> {
    const rows = await this.db
      .selectFrom('agent_tools')
      .select('tool_name')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .execute();
    return rows.map((row) => row.tool_name);
  }

  /** The tool as this transaction sees it, for a change that depends on what is stored. */
  get(input: AgentToolKey): Promise<StoredAgentTool | null> {
    return this.#reader.get(input);
  }

  /**
   * Inserts the tool only if its agent exists in the same organisation, has fewer than
   * MAX_TOOLS_PER_AGENT tools and no tool of that name — all in one statement (the unique
   * `(agent_id, tool_name)` index decides between concurrent writers), so no check-then-write gap
   * exists. When nothing was inserted, the same transaction then tells why.
   */
  async insert(tool: StoredAgentTool): Promise<InsertToolResult> {
    const row = toolToRow(tool);
    // PostgreSQL types a bare parameter in a select list as text; the column is an integer.
    const values = { ...row, is_enabled: sql<number>`cast(${row.is_enabled} as integer)` };
    const result = await insertUnderAgent(this.db, 'agent_tools', values, MAX_TOOLS_PER_AGENT)
      .onConflict((conflict) => conflict.columns(['agent_id', 'tool_name']).doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return { kind: 'created', tool: agentToolRowToTool(row) };
    return this.#whyNotInserted(row);
  }

  async #whyNotInserted(row: AgentToolRow): Promise<InsertToolResult> {
    const agent = await this.db
      .selectFrom('agents')
      .select('id')
      .where('id', '=', row.agent_id)
      .where('organization_id', '=', row.organization_id)
      .executeTakeFirst();
    if (!agent) return { kind: 'agent_not_found' };
    const sameName = await this.#findByName(row.agent_id, row.tool_name);
    return sameName ? { kind: 'name_taken' } : { kind: 'too_many_tools' };
  }

  #findByName(agentId: string, toolName: string): Promise<{ id: string } | undefined> {
    return this.db
      .selectFrom('agent_tools')
      .select('id')
      .where('agent_id', '=', agentId)
      .where('tool_name', '=', toolName)
      .executeTakeFirst();
  }

  /**
   * Applies `changes`. A rename onto another tool's name is refused here on SQLite (one writer at
   * a time); on PostgreSQL two concurrent renames can both pass this check, and the unique index
   * then fails the second (the service maps that error to the same answer).
   */
  async update(input: AgentToolKey & { changes: AgentToolChanges; now: string }): Promise<UpdateToolResult> {
    const { changes } = input;
    if (changes.tool_name !== undefined) {
      // The tool first: whether a name is taken is only ever told about one's own agent.
      const own = await this.db
        .selectFrom('agent_tools')
        .select('id')
        .where('organization_id', '=', input.organizationId)
        .where('agent_id', '=', input.agentId)
        .where('id', '=', input.id)
        .executeTakeFirst();
      if (!own) return { kind: 'not_found' };
      const sameName = await this.#findByName(input.agentId, changes.tool_name);
      if (sameName && sameName.id !== input.id) return { kind: 'name_taken' };
    }
    const set: Partial<AgentToolRow> = { updated_at: input.now };
    if (changes.tool_name !== undefined) set.tool_name = changes.tool_name;
    if (changes.tool_type !== undefined) set.tool_type = changes.tool_type;
    if (changes.configuration !== undefined) {
      set.configuration = changes.configuration === null ? null : JSON.stringify(changes.configuration);
    }
    if (changes.is_enabled !== undefined) set.is_enabled = changes.is_enabled ? 1 : 0;
    if (changes.mcp_server_id !== undefined) set.mcp_server_id = changes.mcp_server_id;
    if (changes.external_tool_connection_id !== undefined) {
      set.external_tool_connection_id = changes.external_tool_connection_id;
    }
    const row = await this.db
      .updateTable('agent_tools')
      .set(set)
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    return row ? { kind: 'updated', tool: agentToolRowToTool(row) } : { kind: 'not_found' };
  }

  async delete(input: AgentToolKey): Promise<boolean> {
    const result = await this.db
      .deleteFrom('agent_tools')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

/** Whether a database error is a unique-index violation (PostgreSQL 23505, SQLite's UNIQUE constraint). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
