import { randomUUID } from 'node:crypto';
import { createTools } from './app-tools.js';
import { createKnowledge, createKnowledgeBase } from './app-knowledge.js';
import { registerAccess, registerBrowserCredentialRoutes } from './app-access.js';
import { registerAgentFamilies } from './app-agents.js';
import type { Jobs } from './app-jobs.js';
import { createRuntime } from './app-runtime.js';
import { registerFlows } from './app-flows.js';
import { closeGracefully } from './app-shutdown.js';
import { registerWebhooks } from './app-webhooks.js';
import { createObservability } from './app-observability.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { WebhookPublisher } from './webhooks/webhook-publisher.js';
import type { KnowledgeSearch } from './knowledge/knowledge-search.js';
import type { LookupFunction } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { registerAgUiRoutes } from './features/ag-ui/ag-ui.routes.js';
import { AgUiService } from './features/ag-ui/ag-ui.service.js';
import { registerMessageRoutes } from './features/messages/messages.routes.js';
import { SseRegistry } from './http/sse-registry.js';
import type { ModelRegistry } from './models/registry.js';
import type { ThreadEventLog } from './runtime/event-log.js';
import type { LiveBus } from './runtime/live-bus.js';
import type { AgentRuntime } from './runtime/run-agent.js';
import type { RuntimeDependencies } from './runtime/run-types.js';
import type { ProcessLiveness } from './runtime/process-liveness.js';
import type { Tool } from './tools/tool.js';
import { AppError } from './errors.js';
import { AgentsService } from './features/agents/agents.service.js';
import { registerHealthRoutes } from './features/health/health.routes.js';
import { registerKeyRoutes } from './features/keys/keys.routes.js';
import { KeysService } from './features/keys/keys.service.js';
import { StreamCredentialWatch, credentialCheckIntervalMs } from './features/keys/stream-credential-watch.js';
import { StreamTokensService } from './features/stream-tokens/stream-tokens.service.js';
import { registerThreadRoutes } from './features/threads/threads.routes.js';
import { registerFeedbackRoutes } from './features/feedback/feedback.routes.js';
import { FeedbackService } from './features/feedback/feedback.service.js';
import { registerWebThreadRoutes } from './features/web-threads/web-threads.routes.js';
import { WebThreadsService } from './features/web-threads/web-threads.service.js';
import { registerSearchRoutes } from './features/search/search.routes.js';
import { SearchService } from './features/search/search.service.js';
import { registerUsageRoutes } from './features/usage/usage.routes.js';
import { UsageService } from './features/usage/usage.service.js';
import { registerToolRoutes } from './features/tools/tools.routes.js';
import { registerMcpRoutes } from './features/mcp/mcp.routes.js';
import type { McpAuthorization } from './mcp/mcp-authorization.js';
import type { McpServersService } from './features/mcp/mcp-servers.service.js';
import type { OpenApiImportService } from './features/tools/openapi-import.service.js';
import type { ToolsService } from './features/tools/tools.service.js';
import { registerToolCallRoutes } from './features/tool-calls/tool-calls.routes.js';
import { registerMcpOAuthRoutes } from './features/mcp-oauth/mcp-oauth.routes.js';
import type { OAuthAuthorization } from './mcp/oauth/oauth-authorization.js';
import { ToolCallsService } from './features/tool-calls/tool-calls.service.js';

import { ThreadsService } from './features/threads/threads.service.js';
import { answerClientError } from './http/client-errors.js';
import { registerErrorHandling, sendError } from './http/error-handler.js';
import { Idempotency } from './http/idempotency.js';
import { registerJsonBodyParser } from './http/json-body.js';
import { serializeRequest } from './http/log-redaction.js';
import { registerOpenApi } from './http/openapi.js';
import { registerRequestHooks, setSecurityHeaders } from './http/request-hooks.js';
import type { OutboundClient } from './outbound/outbound-client.js';
import { LazySchemas } from './http/lazy-schemas.js';
import { validatorCompilerBuilder } from './http/validation.js';
import { newId, systemClock, type Clock, type IdGenerator } from './ids.js';
import type { Store } from './storage/store.js';
import { PARLEY_VERSION } from './version.js';

export interface AppDependencies {
  /** The whole configuration, as `loadConfig` makes it (tests spread it and override fields). */
  config: Config;
  store: Store;
  clock?: Clock;
  /** A monotonic clock in milliseconds, for heartbeat windows; `performance.now` when absent. */
  elapsedMs?: () => number;
  newId?: IdGenerator;
  /** Models by id; built from `config.models` when absent (tests pass scripted models). */
  models?: ModelRegistry;
  /** Tools agents can attach by name in `configuration.tools`; the built-in tools when absent. */
  tools?: ReadonlyMap<string, Tool>;
  /** A pino destination for the logs (tests capture them); stdout when absent. */
  logStream?: NodeJS.WritableStream;
  /** How the outbound client resolves names (tests pass a stub resolver); `dns.lookup` when absent. */
  outboundLookup?: LookupFunction;
  /** The OAuth 2.1 layer for MCP servers (docs/mcp.md); none (401s cannot be signed in) when absent. */
  mcpAuthorization?: McpAuthorization;
  /** What agents' `knowledge_base_search` searches (tests pass their own port implementation). */
  knowledge?: KnowledgeSearch;
  /** Where spans go (tests pass the SDK's InMemorySpanExporter); OTLP when configured, else none. */
  spanExporter?: SpanExporter;
}

export interface ParleyApp {
  app: FastifyInstance;
  keys: KeysService;
  runtime: AgentRuntime;
  /** This process's heartbeat and its watch over the others; `serve` starts and stops it. */
  liveness: ProcessLiveness;
  /** Live events of threads: this process's memory, or Redis with `REDIS_URL` (docs/streaming.md). */
  bus: LiveBus;
  sse: SseRegistry;
  /** The job queue's worker in this process (`parley worker` runs only this). */
  jobs: Jobs;
  /**
   * The one guarded client for requests to the outside world (docs/security.md), built from
   * `config.outbound`; whatever calls out (external tools, `http_request`, OpenAPI import by URL)
   * is given this one. Its pooled connections close with the app.
   */
  outbound: OutboundClient;
  /** Compiles the route schemas no request has needed yet (src/http/lazy-schemas.ts). */
  warmSchemas(): Promise<void>;
  /** Marks the server as shutting down: readiness fails from now on. */
  beginShutdown(): void;
  /**
   * Graceful stop: every request is answered 503 from now on (readiness fails), every SSE stream
   * gets `shutdown` and ends, runs finish (or are stopped and stored as cancelled at the
   * deadline), in-flight requests complete; the listener stays open until then (or the
   * deadline), so probes see 503 rather than a refused connection. The store stays open for the
   * caller to close.
   */
  shutdown(runDeadlineMs: number): Promise<void>;
}

/** Builds the whole server without listening, so tests can `inject` requests. */
export async function createApp(dependencies: AppDependencies): Promise<ParleyApp> {
  const { config, store } = dependencies;
  const clock = dependencies.clock ?? systemClock;
  const generateId = dependencies.newId ?? newId;
  let shuttingDown = false;
  const schemas = new LazySchemas();
  const app = Fastify(serverOptions({ config, logStream: dependencies.logStream, schemas }));
  registerRequestHooks(app, { logLevel: config.logLevel, isShuttingDown: () => shuttingDown });
  registerJsonBodyParser(app);

  const sse = new SseRegistry({ keepAliveMs: config.runtime.sseKeepAliveMs, ...config.streams });
  const { metrics, telemetry, scrape } = createObservability({ app, dependencies, clock, sse });
  const keys = createKeys({ config, store, clock, generateId, sse });
  const credentialWatch = new StreamCredentialWatch({ keys, sse, log: app.log, ...credentialCheck(config) });
  const base = createKnowledgeBase({ app, dependencies });
  const agents = new AgentsService({ store, clock, newId: generateId, files: base.storage });
  const idempotency = new Idempotency({ store, clock });
  const toolParts = createTools({ app, dependencies, clock, generateId, knowledge: base.search });
  const { tools, imports, resolver, outbound, secret, mcp, mcpOAuth } = toolParts;
  const runtimeInput = { app, dependencies, clock, generateId, logger: app.log, tools: resolver, telemetry };
  const { bus, eventLog, runtime, runtimeDependencies, liveness, jobs, webhooks, messages } =
    createRuntime(runtimeInput);
  const tokens = new StreamTokensService({ store, clock, newId: generateId, secret, ...tokenLifetime(config) });

  registerErrorHandling(app);
  const widgetParts = { store, newId: generateId, secret };
  const widget = registerAccess(app, { config, clock, keys, tokens, metrics, widget: widgetParts });
  await registerOpenApi(app, PARLEY_VERSION);
  registerHealthRoutes(app, { store, ...scrape, isShuttingDown: () => shuttingDown, schemas });
  registerAgentFamilies(app, { config, agents, idempotency });
  registerChatRoutes(app, { threads: { store, clock, newId: generateId, webhooks }, idempotency });
  registerToolFamilies(app, { tools, imports, mcp, mcpOAuth, idempotency });
  registerKeyRoutes(app, { keys, idempotency });
  registerMessageRoutes(app, { messages, idempotency, sse });
  registerAgUiRoutes(app, { agUi: new AgUiService(messages), idempotency, sse });
  registerBrowserCredentialRoutes(app, { tokens, widget, idempotency });
  registerRunFamilies(app, { runtime: runtimeDependencies, config, jobs, eventLog, idempotency, webhooks });
  registerWebhooks({ app, config, store, clock, generateId, outbound, secret, idempotency, jobs, publisher: webhooks });
  createKnowledge({ app, config, store, clock, generateId, outbound, idempotency, base, jobs });
  await app.ready();
  credentialWatch.start();

  return {
    app,
    keys,
    runtime,
    liveness,
    bus,
    sse,
    jobs,
    outbound,
    warmSchemas: () => schemas.warm(),
    beginShutdown: () => void (shuttingDown = true),
    shutdown: async (runDeadlineMs) => {
      shuttingDown = true;
      // The job worker drains beside the runs (docs/jobs.md); the credential watch just stops.
      await closeGracefully({ app, sse, runtime, runDeadlineMs, alongside: [credentialWatch, jobs] });
    },
  };
}

/** The flows, flow-execution, tool-call, feedback and usage families: runs (app-flows.ts) and their calls, ratings of runs and answers, what runs spent. */
function registerRunFamilies(
  app: FastifyInstance,
  input: {
    runtime: RuntimeDependencies;
    config: Config;
    jobs: Jobs;
    eventLog: ThreadEventLog;
    idempotency: Idempotency;
    webhooks: WebhookPublisher;
  },
): void {
  const { runtime, config, jobs, eventLog, idempotency, webhooks } = input;
  const { store, clock, newId } = runtime;
  registerFlows(app, { config, runtime, jobs, idempotency });
  registerToolCallRoutes(app, { toolCalls: new ToolCallsService(store) });
  registerFeedbackRoutes(app, {
    feedback: new FeedbackService({ store, eventLog, clock, newId, webhooks }),
    idempotency,
  });
  registerUsageRoutes(app, { usage: new UsageService({ store, clock }) });
}

/**
 * The threads, their search and the web threads. The static paths first:
 * `/chat/{agent_id}/threads/search` sits beside `/threads/{thread_id}` (the router prefers the
 * static segment anyway; the order says so too).
 */
function registerChatRoutes(
  app: FastifyInstance,
  input: { threads: ConstructorParameters<typeof ThreadsService>[0]; idempotency: Idempotency },
): void {
  const { store } = input.threads;
  registerSearchRoutes(app, { search: new SearchService(store) });
  registerWebThreadRoutes(app, { webThreads: new WebThreadsService(store) });
  registerThreadRoutes(app, { threads: new ThreadsService(input.threads), idempotency: input.idempotency });
}

/** The agent-tools and mcp-servers families, and the MCP sign-in routes. */
function registerToolFamilies(
  app: FastifyInstance,
  input: {
    tools: ToolsService;
    imports: OpenApiImportService;
    mcp: McpServersService;
    mcpOAuth: OAuthAuthorization;
    idempotency: Idempotency;
  },
): void {
  registerToolRoutes(app, { tools: input.tools, imports: input.imports, idempotency: input.idempotency });
  registerMcpRoutes(app, { mcp: input.mcp, idempotency: input.idempotency });
  registerMcpOAuthRoutes(app, { oauth: input.mcpOAuth });
}

/** The API keys; a revoked key's streams end at once (on this process). */
function createKeys(input: { config: Config; store: Store; clock: Clock; generateId: IdGenerator; sse: SseRegistry }) {
  const { config, store, clock, generateId, sse } = input;
  return new KeysService({
    store,
    clock,
    newId: generateId,
    cacheTtlMs: config.authCacheTtlMs,
    onRevoked: (keyId) => sse.endKey(keyId, new AppError('key_revoked')),
  });
}

const credentialCheck = (config: Config) => ({ intervalMs: credentialCheckIntervalMs(config.authCacheTtlMs) });
const tokenLifetime = (config: Config) => ({ ttlSeconds: config.streamTokenTtlSeconds });

function serverOptions(input: {
  config: Config;
  logStream: NodeJS.WritableStream | undefined;
  schemas: LazySchemas;
}): FastifyServerOptions {
  const { config, logStream, schemas } = input;
  return {
    logger: {
      level: config.logLevel,
      ...(logStream ? { stream: logStream } : {}),
      // Belt and braces: request logging never includes headers, but if a serializer ever does…
      redact: ['req.headers["x-api-key"]', 'req.headers.authorization', 'headers["x-api-key"]'],
      // …and a logged request's URL never shows a stream token.
      serializers: { req: serializeRequest },
    },
    // Per-request lines would cost a third of the throughput; see registerRequestHooks instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Requests that arrive while closing get our own 503 envelope (see registerRequestHooks).
    return503OnClosing: false,
    // Errors Fastify raises before routing (a malformed URL such as `/%zz`) get the same envelope.
    frameworkErrors: (error, request, reply) => {
      setSecurityHeaders(request.id, reply);
      sendError(reply, request, new AppError('bad_request', { message: `Bad request: ${error.message}` }));
    },
    // What Node's HTTP parser refuses (431, 400, 408) gets the same envelope and x-request-id.
    clientErrorHandler: answerClientError,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false },
    // Slow clients cannot hold a connection open forever (headers, then the whole request).
    connectionTimeout: 0,
    requestTimeout: 60_000,
    keepAliveTimeout: 72_000,
    // Compiled on first use (src/http/lazy-schemas.ts). Fastify's types describe its own ajv
    // pool and serializer factory; ours return the same kind of compile function.
    schemaController: {
      compilersFactory: {
        buildValidator: schemas.validators(validatorCompilerBuilder()) as never,
        buildSerializer: schemas.serializers() as never,
      },
    },
  };
}
