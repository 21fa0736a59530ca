import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { OutboundError } from '../../outbound/outbound-error.js';
import { McpAuthorizationRequired } from '../../mcp/mcp-authorization.js';
import { McpConnectError, McpTransportUnavailable } from '../../mcp/mcp-connection-pool.js';

/**
 * Why talking to an MCP server failed, in words fit for `status_reason` and `error_message`:
 * constant texts (T18: nothing of a refused URL's banner, address or timing is echoed), the
 * guarded client's reason (`outbound_failed: connect`), the HTTP status or the JSON-RPC code.
 */
export type McpFailure =
  | { kind: 'unauthorized'; wwwAuthenticate: string | null; reason: string }
  | { kind: 'needs_authorization'; reason: string }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'unhealthy'; reason: string };

export function classifyFailure(error: unknown): McpFailure {
  const challenge = error instanceof McpConnectError ? error.challenge : undefined;
  const chain = causes(error);
  const required = chain.find((cause) => cause instanceof McpAuthorizationRequired);
  if (required) return { kind: 'needs_authorization', reason: required.reason };
  const status = chain
    .map((cause) => (cause instanceof StreamableHTTPError || cause instanceof SseError ? cause.code : undefined))
    .find((code) => typeof code === 'number' && code > 0);
  if (challenge?.unauthorized || status === 401 || chain.some((cause) => cause instanceof UnauthorizedError)) {
    return {
      kind: 'unauthorized',
      wwwAuthenticate: challenge?.wwwAuthenticate ?? null,
      reason: 'The server requires sign-in (it answered 401)',
    };
  }
  const unavailable = chain.find((cause) => cause instanceof McpTransportUnavailable);
  if (unavailable) return { kind: 'unreachable', reason: unavailable.reason };
  const spawn = chain.find((cause) => String((cause as { syscall?: unknown }).syscall ?? '').startsWith('spawn'));
  if (spawn) {
    const code = String((spawn as { code?: unknown }).code ?? 'error');
    return { kind: 'unreachable', reason: `The server's command could not be started (${code})` };
  }
  const outbound = chain.find((cause): cause is OutboundError => cause instanceof OutboundError);
  if (outbound) return { kind: 'unreachable', reason: `The server could not be reached (${outbound.message})` };
  if (status !== undefined) return { kind: 'unhealthy', reason: `The server answered HTTP ${status}` };
  const rpc = chain.find((cause): cause is McpError => cause instanceof McpError);
  if (rpc) return { kind: 'unhealthy', reason: `The server answered with MCP error ${rpc.code}` };
  return { kind: 'unhealthy', reason: 'The server did not answer as an MCP server' };
}

/** The error and its causes, outermost first (bounded: a cycle cannot loop). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}
