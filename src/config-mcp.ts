import path from 'node:path';
import { readInteger, readOptional, type Environment } from './config-values.js';
import { readMcpOAuth, type McpOAuthConfig } from './config-mcp-oauth.js';

/** MCP servers' settings (docs/mcp.md). */
export interface McpConfig {
  /** How often registered MCP servers are health-checked; 0: never (only on request). */
  readonly healthCheckIntervalMs: number;
  /** Sign-in to MCP servers that need OAuth (PUBLIC_URL, MCP_OAUTH_STATE_TTL_SECONDS). */
  readonly oauth: McpOAuthConfig;
  /** The operator's stdio MCP servers (MCP_SERVERS_FILE, absolute); null: none. Read at app start. */
  readonly serversFile: string | null;
}

/**
 * `MCP_HEALTH_CHECK_INTERVAL_MS`: 0 to a day; the OAuth settings (config-mcp-oauth.ts);
 * `MCP_SERVERS_FILE`: a path, relative to the working directory.
 */
export function readMcpConfig(
  environment: Environment,
  defaults: { intervalMs: number; host: string; port: number },
): McpConfig {
  const serversFile = readOptional(environment, 'MCP_SERVERS_FILE');
  return Object.freeze({
    healthCheckIntervalMs: readInteger(environment, 'MCP_HEALTH_CHECK_INTERVAL_MS', defaults.intervalMs, {
      min: 0,
      max: 86_400_000,
    }),
    oauth: readMcpOAuth(environment, defaults.host, defaults.port),
    serversFile: serversFile === undefined ? null : path.resolve(serversFile),
  });
}
