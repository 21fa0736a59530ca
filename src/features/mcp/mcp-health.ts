import type { McpServerState, StoredMcpServer } from '../../domain/mcp-servers.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { McpServerRef } from '../../mcp/mcp-authorization.js';
import type { McpConnectionPool } from '../../mcp/mcp-connection-pool.js';
import { listAllTools, syncServerTools } from '../../mcp/mcp-tool-catalog.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { Store } from '../../storage/store.js';
import { classifyFailure, type McpFailure } from './mcp-failures.js';

/** The contract's MCPHealthCheck. */
export interface McpHealthResult {
  mcp_server_id: string;
  status: 'healthy' | 'unhealthy' | 'unreachable';
  checked_at: string;
  response_time_ms: number;
  available_tools: number;
  error_message: string | null;
}

const HEALTH_CHECK_TIMEOUT_MS = 10_000;

interface HealthDependencies {
  store: Store;
  clock: Clock;
  newId: IdGenerator;
  outbound: OutboundClient;
  pool: McpConnectionPool;
  elapsedMs?: (() => number) | undefined;
  server: StoredMcpServer;
  ref: McpServerRef;
}

/**
 * One health check, stored as the server's status and last_health_check: the health_check_url
 * with a plain GET when set, else an MCP ping and tools/list (which also syncs the tools).
 * `healthy` stores `connected`; a server that only needs sign-in is `unhealthy` with that
 * reason (status `needs_authorization`), never `unreachable`.
 */
export async function checkServerHealth(input: HealthDependencies): Promise<McpHealthResult> {
  const { server, store } = input;
  const elapsed = input.elapsedMs ?? (() => performance.now());
  const started = elapsed();
  let status: McpHealthResult['status'] = 'healthy';
  let failure: McpFailure | null = null;
  let tools: number;
  try {
    tools = server.health_check_url === null ? await mcpCheck(input) : await urlCheck(input);
  } catch (error) {
    failure = error instanceof HealthUrlError ? { kind: 'unhealthy', reason: error.message } : classifyFailure(error);
    status = failure.kind === 'unreachable' ? 'unreachable' : 'unhealthy';
    tools = await syncedCount(input);
  }
  const responseTime = Math.max(0, Math.round(elapsed() - started));
  const checkedAt = input.clock.now().toISOString();
  await store.write((writers) =>
    writers.mcpServers.setState({
      organizationId: server.organization_id,
      id: server.id,
      state: stateOf(failure),
      checkedAt,
    }),
  );
  return {
    mcp_server_id: server.id,
    status,
    checked_at: checkedAt,
    response_time_ms: responseTime,
    available_tools: tools,
    error_message: failure?.reason ?? null,
  };
}

function stateOf(failure: McpFailure | null): McpServerState {
  if (failure === null) return { status: 'connected', status_reason: null };
  const auth = failure.kind === 'unauthorized' || failure.kind === 'needs_authorization';
  return { status: auth ? 'needs_authorization' : failure.kind, status_reason: failure.reason } as McpServerState;
}

async function mcpCheck(input: HealthDependencies): Promise<number> {
  const tools = await input.pool.use(
    input.ref,
    async (client) => {
      await client.ping({ timeout: HEALTH_CHECK_TIMEOUT_MS });
      return listAllTools(client);
    },
    { retry: true },
  );
  const synced = await syncServerTools({ ...input, tools });
  return synced.tools.length;
}

/** The health_check_url answers 2xx; the tools are those last synced. */
async function urlCheck(input: HealthDependencies): Promise<number> {
  const response = await input.outbound.request({
    method: 'GET',
    url: input.server.health_check_url!,
    timeoutMs: HEALTH_CHECK_TIMEOUT_MS,
    maxResponseBytes: 64 * 1024,
  });
  if (response.status < 200 || response.status > 299) throw new HealthUrlError(response.status);
  return syncedCount(input);
}

async function syncedCount(input: HealthDependencies): Promise<number> {
  const tools = await input.store.agentTools.listForServer({
    organizationId: input.server.organization_id,
    serverId: input.server.id,
  });
  return tools.length;
}

/** A health_check_url that answered, but not 2xx. */
class HealthUrlError extends Error {
  constructor(readonly status: number) {
    super(`The health check URL answered HTTP ${status}`);
  }
}
