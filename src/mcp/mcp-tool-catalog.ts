import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool as McpToolDefinition } from '@modelcontextprotocol/sdk/types.js';
import { MAX_TOOLS_PER_AGENT, type StoredAgentTool } from '../domain/agent-tools.js';
import type { StoredMcpServer } from '../domain/mcp-servers.js';
import type { JsonObject } from '../domain/models.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { Store } from '../storage/store.js';

/** At most this many `tools/list` pages are read (each may hold many tools). */
const MAX_LIST_PAGES = 20;
const TOOL_NAME_LENGTH = 64;
const INVALID_NAME_CHARACTERS = /[^\w-]/g;

/** Every tool of the server, following `nextCursor` for at most MAX_LIST_PAGES pages. */
export async function listAllTools(
  client: Client,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<McpToolDefinition[]> {
  const tools: McpToolDefinition[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page += 1) {
    const result = await client.listTools(cursor === undefined ? undefined : { cursor }, { signal: options.signal });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor || tools.length > MAX_TOOLS_PER_AGENT * 4) break;
  }
  return tools;
}

/**
 * The configuration an MCP tool's AgentTool row keeps: the server's tool name (what
 * `tools/call` is sent), its description, its input schema exactly as the server gave it
 * (`$ref`/`$defs` included) and its annotations.
 */
export function mcpToolConfiguration(tool: McpToolDefinition): JsonObject {
  return {
    mcp_tool_name: tool.name,
    description: tool.description ?? tool.title ?? tool.annotations?.title ?? tool.name,
    input_schema: tool.inputSchema as JsonObject,
    ...(tool.title ? { title: tool.title } : {}),
    ...(tool.annotations ? { annotations: tool.annotations as JsonObject } : {}),
    ...(tool.outputSchema ? { output_schema: tool.outputSchema as JsonObject } : {}),
  };
}

export interface SyncResult {
  tools: StoredAgentTool[];
  /** Tools of the server that could not be added (the agent is full), by their MCP names. */
  skipped: string[];
}

/**
 * Makes the server's AgentTool rows match its `tools/list` (docs/mcp.md, "Tools"), in one
 * transaction: a tool that still exists keeps its row — id, name and `is_enabled` — with its
 * description and schema refreshed; a vanished one is deleted; a new one is added, enabled, as
 * its MCP name made a valid function name, or `<server>__<name>` when another tool of the agent
 * has that name. What would pass MAX_TOOLS_PER_AGENT is skipped (and reported).
 */
export async function syncServerTools(input: {
  store: Store;
  clock: Clock;
  newId: IdGenerator;
  server: StoredMcpServer;
  tools: readonly McpToolDefinition[];
}): Promise<SyncResult> {
  const { server } = input;
  const now = input.clock.now().toISOString();
  return input.store.write(async (writers) => {
    const scope = { organizationId: server.organization_id, agentId: server.agent_id };
    const existing = await writers.agentTools.listForServer({
      organizationId: server.organization_id,
      serverId: server.id,
    });
    const byMcpName = new Map(
      existing.map((tool) => [String(tool.configuration?.mcp_tool_name ?? tool.tool_name), tool]),
    );
    const wanted = new Map(input.tools.map((tool) => [tool.name, tool]));
    for (const tool of existing) {
      const name = String(tool.configuration?.mcp_tool_name ?? tool.tool_name);
      if (!wanted.has(name) || byMcpName.get(name) !== tool) await writers.agentTools.delete({ ...scope, id: tool.id });
    }
    const taken = new Set((await writers.agentTools.listNames(scope)).map((name) => name.toLowerCase()));
    const result: SyncResult = { tools: [], skipped: [] };
    for (const definition of input.tools) {
      const configuration = mcpToolConfiguration(definition);
      const kept = byMcpName.get(definition.name);
      if (kept) {
        const updated = await writers.agentTools.update({ ...scope, id: kept.id, changes: { configuration }, now });
        if (updated.kind === 'updated') result.tools.push(updated.tool);
        continue;
      }
      const toolName = freeToolName(definition.name, server.name, taken);
      const inserted = await writers.agentTools.insert({
        id: input.newId(),
        organization_id: server.organization_id,
        agent_id: server.agent_id,
        tool_name: toolName,
        tool_type: 'mcp_server',
        configuration,
        is_enabled: true,
        mcp_server_id: server.id,
        external_tool_connection_id: null,
        created_at: now,
        updated_at: now,
      });
      if (inserted.kind === 'created') {
        taken.add(toolName.toLowerCase());
        result.tools.push(inserted.tool);
      } else result.skipped.push(definition.name);
    }
    return result;
  });
}

/** A function name for the MCP tool that no other tool of the agent has. */
export function freeToolName(mcpName: string, serverName: string, taken: ReadonlySet<string>): string {
  const plain = functionName(mcpName);
  if (!taken.has(plain.toLowerCase())) return plain;
  const prefixed = functionName(`${serverName}__${mcpName}`);
  if (!taken.has(prefixed.toLowerCase())) return prefixed;
  for (let n = 2; ; n += 1) {
    const suffix = `_${n}`;
    const numbered = `${prefixed.slice(0, TOOL_NAME_LENGTH - suffix.length)}${suffix}`;
    if (!taken.has(numbered.toLowerCase())) return numbered;
  }
}

/** Letters, digits, `_` and `-`, not starting with a digit or `-`, at most 64 characters. */
function functionName(name: string): string {
  let cleaned = name.replace(INVALID_NAME_CHARACTERS, '_');
  if (!/^[a-z_]/i.test(cleaned)) cleaned = `_${cleaned}`;
  return cleaned.slice(0, TOOL_NAME_LENGTH);
}
