import type { JsonObject } from './models.js';

/** The contract's tool types. `mcp_server` is accepted by the store; the API refuses it until MCP arrives. */
export const TOOL_TYPES = ['built_in', 'mcp_server', 'external_tool'] as const;
export type ToolType = (typeof TOOL_TYPES)[number];

/**
 * An agent tool as stored: `configuration` holds secret values sealed (src/security/secret-box.ts),
 * never in plain text; the API shows them masked and the resolver opens them for a run.
 */
export interface StoredAgentTool {
  id: string;
  organization_id: string;
  agent_id: string;
  tool_name: string;
  tool_type: ToolType;
  configuration: JsonObject | null;
  is_enabled: boolean;
  mcp_server_id: string | null;
  external_tool_connection_id: string | null;
  created_at: string;
  updated_at: string;
}

export type AgentToolChanges = Partial<
  Pick<
    StoredAgentTool,
    'tool_name' | 'tool_type' | 'configuration' | 'is_enabled' | 'mcp_server_id' | 'external_tool_connection_id'
  >
>;

/** How many tools one agent may have: more than a model can use well, and the bound of every list. */
export const MAX_TOOLS_PER_AGENT = 128;
