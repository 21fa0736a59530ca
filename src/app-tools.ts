import type { LookupFunction } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { McpHealthMonitor } from './features/mcp/mcp-health-monitor.js';
import { McpServersService } from './features/mcp/mcp-servers.service.js';
import { registerStdioServers } from './features/mcp/mcp-stdio-servers.js';
import { StoredToolResolver } from './features/tools/stored-tool-resolver.js';
import type { McpAuthorization } from './mcp/mcp-authorization.js';
import type { OAuthAuthorization } from './mcp/oauth/oauth-authorization.js';
import { createMcpOAuth } from './app-mcp-oauth.js';
import { McpConnectionPool } from './mcp/mcp-connection-pool.js';
import { readMcpServersFile } from './mcp/mcp-servers-file.js';
import { stdioTransports } from './mcp/mcp-stdio-transport.js';
import { OpenApiImportService } from './features/tools/openapi-import.service.js';
import { ToolsService } from './features/tools/tools.service.js';
import type { Clock, IdGenerator } from './ids.js';
import type { KnowledgeSearch } from './knowledge/knowledge-search.js';
import { createOutboundClient, type OutboundClient } from './outbound/outbound-client.js';
import { SecretBox } from './security/secret-box.js';
import { ServerSecret } from './security/server-secret.js';
import type { Store } from './storage/store.js';
import { BUILTIN_TOOLS } from './tools/builtin/index.js';
import type { Tool } from './tools/tool.js';

/**
 * What agents' tools need, built once per app: the server's root secret (stream tokens derive
 * from it too), the guarded outbound client every tool call goes through, the agent-tools API's
 * service and the resolver that gives runs their tools, sharing one SecretBox.
 */
export function createTools(input: {
  app: FastifyInstance;
  dependencies: {
    config: Config;
    store: Store;
    tools?: ReadonlyMap<string, Tool> | undefined;
    outboundLookup?: LookupFunction | undefined;
    mcpAuthorization?: McpAuthorization | undefined;
  };
  clock: Clock;
  generateId: IdGenerator;
  /** What `knowledge_base_search` searches (docs/tools.md); without it its calls are error results. */
  knowledge?: KnowledgeSearch | undefined;
}): {
  tools: ToolsService;
  imports: OpenApiImportService;
  resolver: StoredToolResolver;
  outbound: OutboundClient;
  secret: ServerSecret;
  mcp: McpServersService;
  mcpPool: McpConnectionPool;
  mcpHealth: McpHealthMonitor;
  mcpOAuth: OAuthAuthorization;
} {
  const { app, dependencies } = input;
  const { store } = dependencies;
  const secret = serverSecret(dependencies.config, app.log);
  const outbound = createOutbound(app, dependencies);
  const box = new SecretBox(secret);
  const catalog = dependencies.tools ?? BUILTIN_TOOLS;
  const { mcp, mcpPool, mcpHealth, mcpOAuth } = createMcp({ ...input, box, outbound });
  return {
    tools: new ToolsService({ store, box, clock: input.clock, newId: input.generateId }),
    imports: new OpenApiImportService({ store, box, clock: input.clock, newId: input.generateId, outbound }),
    resolver: new StoredToolResolver({ store, box, catalog, outbound, mcpPool }),
    outbound,
    secret,
    mcp,
    mcpPool,
    mcpHealth,
    mcpOAuth,
  };
}

/**
 * MCP servers (docs/mcp.md): one connection pool per app on the guarded fetch, closed with the
 * app, the OAuth layer (docs/mcp-oauth.md; tests may give another authorization layer), the
 * service and the periodic health checks.
 */
function createMcp(input: {
  app: FastifyInstance;
  dependencies: { config: Config; store: Store; mcpAuthorization?: McpAuthorization | undefined };
  clock: Clock;
  generateId: IdGenerator;
  box: SecretBox;
  outbound: OutboundClient;
}): { mcp: McpServersService; mcpPool: McpConnectionPool; mcpHealth: McpHealthMonitor; mcpOAuth: OAuthAuthorization } {
  const { app, dependencies, clock, box, outbound } = input;
  const { store, config } = dependencies;
  // The operator's stdio servers (MCP_SERVERS_FILE): a bad file stops the start.
  const stdioServers = readMcpServersFile(config.mcp.serversFile);
  // The pool reports list_changed to the service, and a completed sign-in reaches it through the
  // OAuth layer: both are made before the service, which is made with them.
  const services: { mcp?: McpServersService } = {};
  const mcpOAuth = createMcpOAuth({
    app,
    config,
    store,
    clock,
    box,
    outbound,
    onAuthorized: (server) => services.mcp!.completeAuthorization(server),
  });
  const authorization = dependencies.mcpAuthorization ?? mcpOAuth;
  const mcpPool = new McpConnectionPool({
    fetch: outbound.fetch,
    authorization,
    onToolsChanged: (ref) => services.mcp?.onToolsChanged(ref),
    onSignInNeeded: (ref, error) => services.mcp?.onSignInNeeded(ref, error) ?? Promise.resolve(),
    extraTransports: stdioTransports({ servers: stdioServers, log: app.log }),
    log: app.log,
  });
  const mcp = new McpServersService({
    store,
    box,
    clock,
    newId: input.generateId,
    outbound,
    pool: mcpPool,
    authorization,
    log: app.log,
  });
  services.mcp = mcp;
  const mcpHealth = new McpHealthMonitor({
    store,
    clock,
    mcp,
    intervalMs: config.mcp.healthCheckIntervalMs,
    log: app.log,
  });
  app.addHook('onReady', () => registerStdioServers({ store, clock, servers: stdioServers, log: app.log }));
  app.addHook('onReady', (done) => {
    mcpHealth.start();
    done();
  });
  app.addHook('onClose', async () => {
    await mcpHealth.stop();
    await mcpPool.closeAll();
  });
  return { mcp, mcpPool, mcpHealth, mcpOAuth };
}

/** The guarded outbound client (ADR 0013), from `config.outbound`; its pooled connections close with the app. */
function createOutbound(
  app: FastifyInstance,
  dependencies: { config: Config; outboundLookup?: LookupFunction | undefined },
): OutboundClient {
  const outbound = createOutboundClient({
    allow: dependencies.config.outbound.allow,
    ...(dependencies.outboundLookup ? { lookup: dependencies.outboundLookup } : {}),
  });
  app.addHook('onClose', () => outbound.close());
  return outbound;
}

/**
 * `PARLEY_SECRET_KEY` (or `PARLEY_SECRET_KEYS`), else the root kept in the data folder's key
 * file, generated on first start and announced then, once — by its path, never its value. Only an
 * in-memory database leaves a random root for this process alone, with a warning.
 */
function serverSecret(config: Config, log: FastifyBaseLogger): ServerSecret {
  const secret = ServerSecret.fromConfig(config);
  const { source } = secret;
  if (source.kind === 'file' && source.created) {
    log.warn(
      { file: source.file },
      `PARLEY_SECRET_KEY is not set: generated a root secret into ${source.file} (mode 0600). Keep the file, and back it up with the database: tool secrets are encrypted with it. Set PARLEY_SECRET_KEY (the same on every process) when running more than one.`,
    );
  } else if (source.kind === 'process') {
    log.warn(
      'PARLEY_SECRET_KEY is not set and the database is in memory: a random secret was made for this process, so stream tokens and encrypted secrets are valid only on this process and only until it stops.',
    );
  }
  return secret;
}
