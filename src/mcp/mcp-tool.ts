import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { JsonObject } from '../domain/models.js';
import type { Tool } from '../tools/tool.js';
import type { McpServerRef } from './mcp-authorization.js';
import type { McpConnectionPool } from './mcp-connection-pool.js';

/**
 * The SDK's own deadline for a `tools/call`: longer than any tool timeout, so the run's signal
 * (its timeout or cancellation) is what ends a call, and the SDK sends `notifications/cancelled`.
 */
const SDK_CALL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * A tool of an MCP server (`tool_type: mcp_server`): its input schema reaches the model exactly
 * as the server gave it, and the server validates the arguments (`serverValidatesInput`, see
 * docs/adr/0017-mcp-servers.md). A call is `tools/call` over the pooled connection with the
 * run's signal. What the server answers is the stored result — `content` (text, image, audio,
 * resource, resource links) and `structuredContent` kept as sent; `isError: true` is the
 * call's error, with the text the server gave.
 */
export function mcpTool(input: {
  name: string;
  configuration: JsonObject;
  server: McpServerRef;
  pool: McpConnectionPool;
}): Tool {
  const { configuration } = input;
  const mcpName = typeof configuration.mcp_tool_name === 'string' ? configuration.mcp_tool_name : input.name;
  const schema = configuration.input_schema;
  return {
    name: input.name,
    kind: 'mcp_server',
    description: typeof configuration.description === 'string' ? configuration.description : mcpName,
    inputSchema: typeof schema === 'object' && schema !== null ? (schema as JsonObject) : { type: 'object' },
    serverValidatesInput: true,
    ...(typeof configuration.timeout_ms === 'number' ? { timeoutMs: configuration.timeout_ms } : {}),
    ...(configuration.requires_approval === true ? { requiresApproval: true } : {}),
    async execute(arguments_, context) {
      const result = await input.pool.use(
        input.server,
        (client) =>
          client.callTool({ name: mcpName, arguments: arguments_ }, CallToolResultSchema, {
            signal: context.signal,
            timeout: SDK_CALL_TIMEOUT_MS,
          }),
        { signal: context.signal },
      );
      return storedCallResult(result as CallToolResult);
    },
  };
}

/** The result as stored: the content and structured content; an error result throws its text. */
export function storedCallResult(result: CallToolResult): JsonObject {
  if (result.isError === true) {
    const text = (result.content ?? [])
      .flatMap((item) => (item.type === 'text' ? [item.text] : []))
      .join('\n')
      .trim();
    throw new Error(text === '' ? 'The MCP tool reported an error' : text);
  }
  return {
    content: (result.content ?? []) as unknown as JsonObject[],
    ...(result.structuredContent === undefined ? {} : { structuredContent: result.structuredContent as JsonObject }),
  } as JsonObject;
}
