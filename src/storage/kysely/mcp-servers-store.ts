import {
  MAX_MCP_SERVERS_PER_AGENT,
  STDIO_URL_PREFIX,
  type McpServerChanges,
  type McpServerState,
  type McpServerStatus,
  type StoredMcpServer,
} from '../../domain/mcp-servers.js';
import type { JsonObject } from '../../domain/models.js';
import type { McpServerRow } from './schema.js';
import { parseNullableJson, type Executor } from './executor.js';
import { insertUnderAgent } from './insert-under-agent.js';

function rowToServer(row: McpServerRow): StoredMcpServer {
  return {
    id: row.id,
    organization_id: row.organization_id,
    agent_id: row.agent_id,
    name: row.name,
    url: row.url,
    auth_config: parseNullableJson<JsonObject>(row.auth_config),
    health_check_url: row.health_check_url,
    tool_discovery_endpoint: row.tool_discovery_endpoint,
    // Only this store writes the column, and only with the domain's statuses.
    status: row.status as McpServerStatus,
    status_reason: row.status_reason,
    last_health_check: row.last_health_check,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function serverToRow(server: StoredMcpServer): McpServerRow {
  return {
    ...server,
    auth_config: server.auth_config === null ? null : JSON.stringify(server.auth_config),
  };
}

export interface McpServerKey {
  organizationId: string;
  agentId: string;
  id: string;
}

export type InsertMcpServerResult =
  { kind: 'created'; server: StoredMcpServer } | { kind: 'agent_not_found' } | { kind: 'too_many_servers' };

export class McpServerReader {
  constructor(private readonly db: Executor) {}

  async get(input: McpServerKey): Promise<StoredMcpServer | null> {
    const row = await this.db
      .selectFrom('mcp_servers')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? rowToServer(row) : null;
  }

  /** A server of the organisation by its id alone (the OAuth callback knows no agent). */
  async find(input: { organizationId: string; id: string }): Promise<StoredMcpServer | null> {
    const row = await this.db
      .selectFrom('mcp_servers')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? rowToServer(row) : null;
  }

  /** The agent's servers in the order they were registered, at most MAX_MCP_SERVERS_PER_AGENT. */
  async list(input: {
    organizationId: string;
    agentId: string;
    status?: string | undefined;
  }): Promise<StoredMcpServer[]> {
    let query = this.db
      .selectFrom('mcp_servers')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId);
    if (input.status !== undefined) query = query.where('status', '=', input.status);
    const rows = await query
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(MAX_MCP_SERVERS_PER_AGENT)
      .execute();
    return rows.map(rowToServer);
  }

  /** Servers of every organisation whose last health check is older than `before` (or never made). */
  async dueForHealthCheck(input: { before: string; limit: number }): Promise<StoredMcpServer[]> {
    const rows = await this.db
      .selectFrom('mcp_servers')
      .selectAll()
      .where((eb) => eb.or([eb('last_health_check', 'is', null), eb('last_health_check', '<', input.before)]))
      .orderBy('last_health_check', 'asc')
      .limit(input.limit)
      .execute();
    return rows.map(rowToServer);
  }

  /** Servers whose URL is one of `urls` in one organisation (the operator's stdio servers). */
  async withUrls(input: { organizationId: string; urls: readonly string[] }): Promise<StoredMcpServer[]> {
    if (input.urls.length === 0) return [];
    const rows = await this.db
      .selectFrom('mcp_servers')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('url', 'in', [...input.urls])
      .execute();
    return rows.map(rowToServer);
  }
}

export class McpServerWriter {
  readonly #reader: McpServerReader;

  constructor(private readonly db: Executor) {
    this.#reader = new McpServerReader(db);
  }

  get(input: McpServerKey): Promise<StoredMcpServer | null> {
    return this.#reader.get(input);
  }

  /**
   * Inserts the server only if its agent exists in the same organisation and has fewer than
   * MAX_MCP_SERVERS_PER_AGENT servers, in one statement (no check-then-write gap); when nothing
   * was inserted, the same transaction tells why.
   */
  insert(server: StoredMcpServer): Promise<InsertMcpServerResult> {
    return this.#insert(server, { ignoreConflict: false });
  }

  async #insert(server: StoredMcpServer, options: { ignoreConflict: boolean }): Promise<InsertMcpServerResult> {
    const row = serverToRow(server);
    const insert = insertUnderAgent(this.db, 'mcp_servers', row, MAX_MCP_SERVERS_PER_AGENT);
    const result = await (
      options.ignoreConflict ? insert.onConflict((conflict) => conflict.column('id').doNothing()) : insert
    ).executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return { kind: 'created', server: rowToServer(row) };
    return this.#whyNotInserted(row);
  }

  /** After an insert that inserted nothing: the agent is not there, or it has no room left. */
  async #whyNotInserted(row: McpServerRow): Promise<InsertMcpServerResult> {
    const agent = await this.db
      .selectFrom('agents')
      .select('id')
      .where('id', '=', row.agent_id)
      .where('organization_id', '=', row.organization_id)
      .executeTakeFirst();
    return agent ? { kind: 'too_many_servers' } : { kind: 'agent_not_found' };
  }

  /**
   * Registers a server of the operator's MCP_SERVERS_FILE (a stable id): inserted when absent —
   * by any number of processes at once, one row wins — else left as it is (status, tools,
   * `is_enabled` kept), except that one marked `undeclared` (its reason) is `registered` again.
   */
  async ensureDeclared(
    server: StoredMcpServer,
    undeclared: string,
  ): Promise<'registered' | 'agent_not_found' | 'too_many_servers'> {
    const inserted = await this.#insert(server, { ignoreConflict: true });
    const existing = await this.db
      .selectFrom('mcp_servers')
      .select(['id', 'status_reason'])
      .where('organization_id', '=', server.organization_id)
      .where('id', '=', server.id)
      .executeTakeFirst();
    if (!existing) return inserted.kind === 'created' ? 'registered' : inserted.kind;
    if (existing.status_reason === undeclared) {
      await this.db
        .updateTable('mcp_servers')
        .set({ status: 'registered', status_reason: null, updated_at: server.updated_at })
        .where('organization_id', '=', server.organization_id)
        .where('id', '=', server.id)
        .where('status_reason', '=', undeclared)
        .execute();
    }
    return 'registered';
  }

  /**
   * Marks every stdio server (of every organisation: the file is the operator's) whose id is not
   * in `declared` as `unreachable` with `reason`; returns how many changed.
   */
  async markUndeclared(input: { declared: readonly string[]; reason: string; now: string }): Promise<number> {
    let query = this.db
      .updateTable('mcp_servers')
      .set({ status: 'unreachable', status_reason: input.reason, updated_at: input.now })
      .where('url', 'like', `${STDIO_URL_PREFIX}%`)
      .where((eb) => eb.or([eb('status_reason', 'is', null), eb('status_reason', '!=', input.reason)]));
    if (input.declared.length > 0) query = query.where('id', 'not in', [...input.declared]);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Applies `changes`; a changed URL or authentication makes the server `registered` again. */
  async update(
    input: McpServerKey & { changes: McpServerChanges; state?: McpServerState | undefined; now: string },
  ): Promise<StoredMcpServer | null> {
    const set: Partial<McpServerRow> = { updated_at: input.now };
    const { changes } = input;
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.url !== undefined) set.url = changes.url;
    if (changes.auth_config !== undefined)
      set.auth_config = changes.auth_config === null ? null : JSON.stringify(changes.auth_config);
    if (changes.health_check_url !== undefined) set.health_check_url = changes.health_check_url;
    if (changes.tool_discovery_endpoint !== undefined) set.tool_discovery_endpoint = changes.tool_discovery_endpoint;
    if (input.state) {
      set.status = input.state.status;
      set.status_reason = input.state.status_reason;
    }
    const row = await this.db
      .updateTable('mcp_servers')
      .set(set)
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    return row ? rowToServer(row) : null;
  }

  /** Records a connect's or health check's outcome (and, for a health check, when it was made). */
  async setState(input: {
    organizationId: string;
    id: string;
    state: McpServerState;
    checkedAt?: string | undefined;
  }): Promise<StoredMcpServer | null> {
    const row = await this.db
      .updateTable('mcp_servers')
      .set({
        status: input.state.status,
        status_reason: input.state.status_reason,
        ...(input.checkedAt ? { last_health_check: input.checkedAt } : {}),
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    return row ? rowToServer(row) : null;
  }

  /**
   * Claims a periodic health check: moves `last_health_check` to `now` only if it is still what
   * this process read (compare-and-set), so of several processes that found the server due
   * exactly one checks it.
   */
  async claimHealthCheck(input: { id: string; seen: string | null; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('mcp_servers')
      .set({ last_health_check: input.now })
      .where('id', '=', input.id)
      .where((eb) =>
        input.seen === null ? eb('last_health_check', 'is', null) : eb('last_health_check', '=', input.seen),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deletes the server and, in the same transaction, the agent tools that came from it. */
  async delete(input: McpServerKey): Promise<boolean> {
    await this.db
      .deleteFrom('agent_tools')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('mcp_server_id', '=', input.id)
      .execute();
    const result = await this.db
      .deleteFrom('mcp_servers')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
