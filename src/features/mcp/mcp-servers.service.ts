import type { FastifyBaseLogger } from 'fastify';
import {
  isStdioServer,
  type McpServerChanges,
  type McpServerState,
  type StoredMcpServer,
} from '../../domain/mcp-servers.js';
import type { JsonObject } from '../../domain/models.js';
import { AppError, validationError } from '../../errors.js';
import { sameId, type Clock, type IdGenerator } from '../../ids.js';
import type { McpAuthorization, McpServerRef } from '../../mcp/mcp-authorization.js';
import type { McpConnectionPool } from '../../mcp/mcp-connection-pool.js';
import { listAllTools, syncServerTools } from '../../mcp/mcp-tool-catalog.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import { agentToolView, type AgentToolView } from '../tools/tools.service.js';
import { classifyFailure } from './mcp-failures.js';
import {
  connectFailed,
  signInNeededState,
  startSignIn,
  type ConnectContext,
  type McpConnectResult,
} from './mcp-connect-outcome.js';
import { checkServerHealth, type McpHealthResult } from './mcp-health.js';
import { checkServerUrl } from './mcp-url-check.js';
import { maskAuthConfig, openAuthConfig, sealAuthConfig } from './mcp-secrets.js';

/** An MCP server as the API shows it (the contract's MCPServer): secrets masked. */
export type McpServerView = Omit<StoredMcpServer, 'organization_id'>;

export interface McpServerCreateBody {
  name: string;
  url: string;
  agent_id?: string | undefined;
  auth_config?: JsonObject | null | undefined;
  tool_discovery_endpoint?: string | null | undefined;
  health_check_url?: string | null | undefined;
}

export type McpServerUpdateBody = Partial<Omit<McpServerCreateBody, 'agent_id'>> & { status?: string | undefined };

export type { McpConnectResult } from './mcp-connect-outcome.js';
export type { McpHealthResult } from './mcp-health.js';

interface AgentScope {
  organizationId: string;
  agentId: string;
}
interface ServerScope extends AgentScope {
  serverId: string;
}

/**
 * The mcp-servers family (docs/mcp.md): registration (which never contacts the server), connect
 * (with the authorization seam), health checks, the tools catalogue, and the hooks the OAuth
 * callback and list_changed notifications use.
 */
export class McpServersService {
  constructor(
    private readonly dependencies: {
      store: Store;
      box: SecretBox;
      clock: Clock;
      newId: IdGenerator;
      outbound: OutboundClient;
      pool: McpConnectionPool;
      authorization: McpAuthorization;
      log: FastifyBaseLogger;
      /** Milliseconds since some fixed point, for response times; `performance.now` by default. */
      elapsedMs?: () => number;
    },
  ) {}

  async create(
    input: AgentScope & { body: McpServerCreateBody; idempotency?: IdempotencyClaim | undefined },
  ): Promise<McpServerView> {
    const { store, box, clock, newId } = this.dependencies;
    const { body } = input;
    if (body.agent_id !== undefined && !sameId(body.agent_id, input.agentId)) {
      throw validationError(['body', 'agent_id'], 'agent_id in the body must match the agent_id in the path');
    }
    checkServerUrl(this.dependencies.outbound, body.url, 'url');
    if (body.health_check_url != null)
      checkServerUrl(this.dependencies.outbound, body.health_check_url, 'health_check_url');
    const now = clock.now().toISOString();
    const server: StoredMcpServer = {
      id: newId(),
      organization_id: input.organizationId,
      agent_id: input.agentId,
      name: body.name,
      url: body.url,
      auth_config: sealAuthConfig(box, body.auth_config ?? null, null),
      health_check_url: body.health_check_url ?? null,
      tool_discovery_endpoint: body.tool_discovery_endpoint === undefined ? '/tools' : body.tool_discovery_endpoint,
      status: 'registered',
      status_reason: null,
      last_health_check: null,
      created_at: now,
      updated_at: now,
    };
    return store.write(
      async (writers) => {
        const result = await writers.mcpServers.insert(server);
        if (result.kind === 'agent_not_found') throw new AppError('agent_not_found');
        if (result.kind === 'too_many_servers') throw new AppError('too_many_mcp_servers');
        return this.#view(result.server);
      },
      { idempotency: input.idempotency },
    );
  }

  async list(input: AgentScope & { status?: string | undefined }): Promise<McpServerView[]> {
    await this.#requireAgent(input);
    const servers = await this.dependencies.store.mcpServers.list(input);
    return servers.map((server) => this.#view(server));
  }

  async get(input: ServerScope): Promise<McpServerView> {
    return this.#view(await this.#requireServer(input));
  }

  async update(input: ServerScope & { changes: McpServerUpdateBody }): Promise<McpServerView> {
    const { store, box, clock, pool } = this.dependencies;
    const { changes } = input;
    if (changes.url !== undefined) checkServerUrl(this.dependencies.outbound, changes.url, 'url');
    if (changes.health_check_url != null)
      checkServerUrl(this.dependencies.outbound, changes.health_check_url, 'health_check_url');
    const updated = await store.write(async (writers) => {
      const stored = await writers.mcpServers.get(key(input));
      if (!stored) return this.#notFound(input);
      if (isStdioServer(stored)) throw new AppError('mcp_server_read_only');
      if (changes.status !== undefined && changes.status !== stored.status) {
        throw validationError(
          ['body', 'status'],
          'status is set by connect and health checks; only the current one is accepted',
        );
      }
      const fields: McpServerChanges = {};
      if (changes.name !== undefined) fields.name = changes.name;
      if (changes.url !== undefined) fields.url = changes.url;
      if (changes.health_check_url !== undefined) fields.health_check_url = changes.health_check_url;
      if (changes.tool_discovery_endpoint !== undefined)
        fields.tool_discovery_endpoint = changes.tool_discovery_endpoint;
      if (changes.auth_config !== undefined)
        fields.auth_config = sealAuthConfig(box, changes.auth_config, stored.auth_config);
      const reconnect =
        (fields.url !== undefined && fields.url !== stored.url) ||
        (fields.auth_config !== undefined && JSON.stringify(fields.auth_config) !== JSON.stringify(stored.auth_config));
      const state: McpServerState | undefined = reconnect ? { status: 'registered', status_reason: null } : undefined;
      const server = await writers.mcpServers.update({
        ...key(input),
        changes: fields,
        state,
        now: clock.now().toISOString(),
      });
      return server ?? this.#notFound(input);
    });
    await pool.close(updated.id);
    return this.#view(updated);
  }

  /** Deletes the server with its tools (one transaction), after its credentials were revoked. */
  async delete(input: ServerScope): Promise<void> {
    const { store, pool, authorization, log } = this.dependencies;
    const server = await this.#requireServer(input);
    if (isStdioServer(server)) throw new AppError('mcp_server_read_only');
    await pool.close(server.id);
    try {
      await authorization.revoke(this.#ref(server));
    } catch (error) {
      // Revocation is best effort: the tokens go with the row whatever the server said.
      log.warn({ err: error, mcpServerId: server.id }, 'MCP credentials could not be revoked');
    }
    const deleted = await store.write((writers) => writers.mcpServers.delete(key(input)));
    if (!deleted) await this.#notFound(input);
  }

  async tools(input: ServerScope): Promise<AgentToolView[]> {
    const server = await this.#requireServer(input);
    const tools = await this.dependencies.store.agentTools.listForServer({
      organizationId: input.organizationId,
      serverId: server.id,
    });
    return tools.map((tool) => agentToolView(this.dependencies.box, tool));
  }

  /**
   * Connects (or reuses the connection), syncs the tools and marks the server `connected`. A 401
   * starts sign-in through the authorization layer; any other failure is stored as the server's
   * status and answered 502 with the reason.
   */
  async connect(input: ServerScope): Promise<McpConnectResult> {
    const server = await this.#requireServer(input);
    const ref = this.#ref(server);
    // A server waiting for sign-in (it answered 401, a refresh failed, a call needed a scope it
    // lacks) is signed in again rather than connected with the credentials that stopped working;
    // when sign-in cannot even start, a plain connect says why.
    const context = this.#connectContext(server, ref);
    if (server.status === 'needs_authorization') {
      const started = await startSignIn(context, null).catch(() => null);
      if (started) return started;
    }
    try {
      await this.dependencies.pool.connect(ref);
      await this.#syncTools(server, ref);
    } catch (error) {
      return connectFailed(context, error);
    }
    await this.#setState(server, { status: 'connected', status_reason: null });
    return { status: 'success', message: 'Connection successful', authorization_url: null };
  }

  /** Called by the OAuth callback once it stored the tokens: reconnect with them, sync, `connected`. */
  async completeAuthorization(input: { organizationId: string; serverId: string }): Promise<void> {
    const server = await this.dependencies.store.mcpServers.find({
      organizationId: input.organizationId,
      id: input.serverId,
    });
    if (!server) throw new AppError('mcp_server_not_found');
    const ref = this.#ref(server);
    await this.dependencies.pool.close(server.id);
    try {
      await this.dependencies.pool.connect(ref);
      await this.#syncTools(server, ref);
    } catch (error) {
      const failure = classifyFailure(error);
      const status = failure.kind === 'unauthorized' ? 'needs_authorization' : failure.kind;
      await this.#setState(server, { status, status_reason: failure.reason });
      throw new AppError('mcp_server_unavailable', {
        message: `The MCP server could not be connected: ${failure.reason}.`,
      });
    }
    await this.#setState(server, { status: 'connected', status_reason: null });
  }

  /** A list_changed notification arrived: read the catalogue again (errors are logged). */
  onToolsChanged(ref: McpServerRef): void {
    void (async () => {
      const server = await this.dependencies.store.mcpServers.find({
        organizationId: ref.organizationId,
        id: ref.serverId,
      });
      if (server) await this.#syncTools(server, this.#ref(server));
    })().catch((error: unknown) =>
      this.dependencies.log.warn({ err: error, mcpServerId: ref.serverId }, 'MCP tools could not be refreshed'),
    );
  }

  async healthCheck(input: ServerScope): Promise<McpHealthResult> {
    return this.check(await this.#requireServer(input));
  }

  /** One health check (mcp-health.ts), stored as the server's status and last_health_check. */
  check(server: StoredMcpServer): Promise<McpHealthResult> {
    return checkServerHealth({ ...this.dependencies, server, ref: this.#ref(server) });
  }

  async #syncTools(server: StoredMcpServer, ref: McpServerRef): Promise<void> {
    const tools = await this.dependencies.pool.use(ref, (client) => listAllTools(client), { retry: true });
    const result = await syncServerTools({ ...this.dependencies, server, tools });
    if (result.skipped.length > 0) {
      this.dependencies.log.warn(
        { mcpServerId: server.id, skipped: result.skipped.length },
        'Some MCP tools were not added: the agent has as many tools as it may',
      );
    }
  }

  /**
   * A call or a catalogue read found that the server wants sign-in: stored, so `connect` signs in
   * again and the server's status says why.
   */
  async onSignInNeeded(ref: McpServerRef, error: unknown): Promise<void> {
    const state = signInNeededState(error);
    if (!state) return;
    const server = await this.dependencies.store.mcpServers.find({
      organizationId: ref.organizationId,
      id: ref.serverId,
    });
    if (server) await this.#setState(server, state);
  }

  #connectContext(server: StoredMcpServer, ref: McpServerRef): ConnectContext {
    return { authorization: this.dependencies.authorization, ref, setState: (state) => this.#setState(server, state) };
  }

  async #setState(server: StoredMcpServer, state: McpServerState): Promise<void> {
    await this.dependencies.store.write((writers) =>
      writers.mcpServers.setState({ organizationId: server.organization_id, id: server.id, state }),
    );
  }

  #ref(server: StoredMcpServer): McpServerRef {
    return {
      organizationId: server.organization_id,
      serverId: server.id,
      url: server.url,
      authConfig: openAuthConfig(this.dependencies.box, server.auth_config),
    };
  }

  #view(server: StoredMcpServer): McpServerView {
    const { organization_id: _organization, ...view } = server;
    return { ...view, auth_config: maskAuthConfig(this.dependencies.box, server.auth_config) };
  }

  async #requireAgent(input: AgentScope): Promise<void> {
    const agent = await this.dependencies.store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
  }

  async #requireServer(input: ServerScope): Promise<StoredMcpServer> {
    const server = await this.dependencies.store.mcpServers.get(key(input));
    return server ?? this.#notFound(input);
  }

  /** 404 naming the first missing object: the agent (of this organisation), else the server. */
  async #notFound(input: ServerScope): Promise<never> {
    await this.#requireAgent(input);
    throw new AppError('mcp_server_not_found');
  }
}

function key(input: ServerScope): { organizationId: string; agentId: string; id: string } {
  return { organizationId: input.organizationId, agentId: input.agentId, id: input.serverId };
}
