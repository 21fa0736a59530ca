import { readInteger, type Environment } from './config-values.js';

/** MCP servers' settings (docs/mcp.md). */
export interface McpConfig {
  /** How often registered MCP servers are health-checked; 0: never (only on request). */
  readonly healthCheckIntervalMs: number;
}

/** `MCP_HEALTH_CHECK_INTERVAL_MS`: 0 to a day. */
export function readMcpConfig(environment: Environment, defaultIntervalMs: number): McpConfig {
  return Object.freeze({
    healthCheckIntervalMs: readInteger(environment, 'MCP_HEALTH_CHECK_INTERVAL_MS', defaultIntervalMs, {
      min: 0,
      max: 86_400_000,
    }),
  });
}
