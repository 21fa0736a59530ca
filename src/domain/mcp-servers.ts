import type { JsonObject } from './models.js';

/**
 * What an MCP server's `status` says (docs/mcp.md): `registered` — created, never connected
 * (registering never contacts the server); `connected` — the last connect or health check
 * succeeded and its tools are synced; `needs_authorization` — it answered 401 or its tokens can
 * no longer be refreshed: a person must sign in (`status_reason` says why); `unhealthy` — it
 * answered, but not as a working MCP server (an error status, a failed initialize or tools/list);
 * `unreachable` — no answer (refused destination, DNS, connect, timeout).
 */
export const MCP_SERVER_STATUSES = [
  'registered',
  'connected',
  'needs_authorization',
  'unhealthy',
  'unreachable',
] as const;
export type McpServerStatus = (typeof MCP_SERVER_STATUSES)[number];

/**
 * An MCP server as stored: `auth_config` holds its secret values sealed (never plain text); the
 * API shows them masked. A `stdio:<name>` URL marks a server of the operator's MCP_SERVERS_FILE,
 * which the API may read but not change.
 */
export interface StoredMcpServer {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  url: string;
  auth_config: JsonObject | null;
  health_check_url: string | null;
  tool_discovery_endpoint: string | null;
  status: McpServerStatus;
  status_reason: string | null;
  last_health_check: string | null;
  created_at: string;
  updated_at: string;
}

export type McpServerChanges = Partial<
  Pick<StoredMcpServer, 'name' | 'url' | 'auth_config' | 'health_check_url' | 'tool_discovery_endpoint'>
>;

/** The outcome of a connect or health check, stored on the server. */
export interface McpServerState {
  status: McpServerStatus;
  status_reason: string | null;
}

/** How many MCP servers one agent may have. */
export const MAX_MCP_SERVERS_PER_AGENT = 32;

export const STDIO_URL_PREFIX = 'stdio:';

/** The `status_reason` of a stdio server the operator's MCP_SERVERS_FILE no longer declares. */
export const UNDECLARED_REASON = 'No longer declared in MCP_SERVERS_FILE';

export function isStdioServer(server: Pick<StoredMcpServer, 'url'>): boolean {
  return server.url.startsWith(STDIO_URL_PREFIX);
}
