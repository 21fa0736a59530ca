import type { FastifyBaseLogger } from 'fastify';
import { ConfigError } from '../../config-values.js';
import { STDIO_URL_PREFIX, UNDECLARED_REASON, type StoredMcpServer } from '../../domain/mcp-servers.js';
import type { Organization } from '../../domain/models.js';
import { nameBasedId, UUID_PATTERN, type Clock } from '../../ids.js';
import type { StdioServerDeclaration } from '../../mcp/mcp-servers-file.js';
import type { Store } from '../../storage/store.js';

/** The namespace of stdio servers' name-based ids (a fixed random UUID: never change it). */
const STDIO_SERVER_NAMESPACE = '7c0f3f5e-2b8a-4d61-9a57-0e3d6f1c9b24';

/**
 * A stdio server's id: the same for the same organisation, agent and name in every process and
 * after every restart, so its tools keep their ids and `is_enabled`.
 */
export function stdioServerId(input: { organizationId: string; agentId: string; name: string }): string {
  return nameBasedId(STDIO_SERVER_NAMESPACE, `${input.organizationId}\n${input.agentId}\n${input.name}`);
}

/**
 * At start (docs/mcp.md "Stdio servers"): every declared server becomes an mcp_servers row for
 * each of its agents, url `stdio:<name>`, a stable id (`stdioServerId`). Registering is
 * idempotent — across restarts and across processes reading the same file at once — and never
 * starts the process (connect, a health check or a tool call does). Rows of servers the file no
 * longer declares are kept (with their tools, so declaring them again restores everything) but
 * marked `unreachable` with UNDECLARED_REASON; this process will not start them. An unknown
 * organisation or agent, or an agent with no room for another server, stops the start.
 */
export async function registerStdioServers(input: {
  store: Store;
  clock: Clock;
  servers: readonly StdioServerDeclaration[];
  log: FastifyBaseLogger;
}): Promise<void> {
  const { store, clock, log } = input;
  const now = clock.now().toISOString();
  const rows: { server: StoredMcpServer; where: string }[] = [];
  for (const declaration of input.servers) {
    const organization = await findOrganization(store, declaration.organization);
    if (!organization) {
      throw problem(declaration, `organization: no organisation "${declaration.organization}"`);
    }
    for (const [index, agentId] of declaration.agents.entries()) {
      const agent = await store.agents.get({ organizationId: organization.id, id: agentId });
      if (!agent) {
        throw problem(declaration, `agents[${index}]: no agent ${agentId} in organisation "${organization.name}"`);
      }
      rows.push({
        server: row({ declaration, organizationId: organization.id, agentId, now }),
        where: declaration.where,
      });
    }
  }
  const marked = await store.write(async (writers) => {
    for (const { server, where } of rows) {
      const result = await writers.mcpServers.ensureDeclared(server, UNDECLARED_REASON);
      if (result === 'too_many_servers') {
        throw new ConfigError(
          'MCP_SERVERS_FILE',
          `${where}: agent ${server.agent_id} already has as many MCP servers as it may`,
        );
      }
      if (result === 'agent_not_found')
        throw new ConfigError('MCP_SERVERS_FILE', `${where}: agent ${server.agent_id} is gone`);
    }
    return writers.mcpServers.markUndeclared({
      declared: rows.map(({ server }) => server.id),
      reason: UNDECLARED_REASON,
      now,
    });
  });
  log.info({ servers: rows.length, undeclared: marked }, 'MCP stdio servers from MCP_SERVERS_FILE registered');
}

/** By id when it looks like one, else (or when no organisation has that id) by name. */
async function findOrganization(store: Store, reference: string): Promise<Organization | null> {
  if (new RegExp(UUID_PATTERN).test(reference)) {
    const byId = await store.organizations.findById(reference.toLowerCase());
    if (byId) return byId;
  }
  return store.organizations.findByName(reference);
}

function row(input: {
  declaration: StdioServerDeclaration;
  organizationId: string;
  agentId: string;
  now: string;
}): StoredMcpServer {
  const { declaration, organizationId, agentId, now } = input;
  return {
    id: stdioServerId({ organizationId, agentId, name: declaration.name }),
    organization_id: organizationId,
    agent_id: agentId,
    name: declaration.name,
    url: `${STDIO_URL_PREFIX}${declaration.name}`,
    auth_config: null,
    health_check_url: null,
    tool_discovery_endpoint: null,
    status: 'registered',
    status_reason: null,
    last_health_check: null,
    created_at: now,
    updated_at: now,
  };
}

function problem(declaration: StdioServerDeclaration, text: string): ConfigError {
  return new ConfigError('MCP_SERVERS_FILE', `${declaration.where}: ${text}`);
}
