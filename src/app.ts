import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { registerAgentRoutes } from './features/agents/agents.routes.js';
import { AgentsService } from './features/agents/agents.service.js';
import { registerHealthRoutes } from './features/health/health.routes.js';
import { registerKeyRoutes } from './features/keys/keys.routes.js';
import { KeysService } from './features/keys/keys.service.js';
import { registerThreadRoutes } from './features/threads/threads.routes.js';
import { ThreadsService } from './features/threads/threads.service.js';
import { registerAuthentication } from './http/auth.js';
import { registerErrorHandling } from './http/error-handler.js';
import { Idempotency } from './http/idempotency.js';
import { registerOpenApi } from './http/openapi.js';
import { buildValidatorCompiler } from './http/validation.js';
import { newId, systemClock, type Clock, type IdGenerator } from './ids.js';
import type { Store } from './storage/store.js';
import { PARLEY_VERSION } from './version.js';

export interface AppDependencies {
  config: Pick<Config, 'logLevel' | 'authCacheTtlMs' | 'bodyLimitBytes'>;
  store: Store;
  clock?: Clock;
  newId?: IdGenerator;
  /** A pino destination for the logs (tests capture them); stdout when absent. */
  logStream?: NodeJS.WritableStream;
}

export interface ParleyApp {
  app: FastifyInstance;
  keys: KeysService;
  /** Marks the server as shutting down: readiness fails from now on. */
  beginShutdown(): void;
}

/** Builds the whole server without listening, so tests can `inject` requests. */
export async function createApp(dependencies: AppDependencies): Promise<ParleyApp> {
  const { config, store } = dependencies;
  const clock = dependencies.clock ?? systemClock;
  const generateId = dependencies.newId ?? newId;
  let shuttingDown = false;

  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(dependencies.logStream ? { stream: dependencies.logStream } : {}),
      // Belt and braces: request logging below never includes headers, but if a serializer ever does…
      redact: ['req.headers["x-api-key"]', 'req.headers.authorization', 'headers["x-api-key"]'],
    },
    // Per-request lines would cost a third of the throughput; see the onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false },
    // Slow clients cannot hold a connection open forever (headers, then the whole request).
    connectionTimeout: 0,
    requestTimeout: 60_000,
    keepAliveTimeout: 72_000,
    // Fastify's types describe its own ajv pool; ours returns the same kind of compile function.
    schemaController: { compilersFactory: { buildValidator: buildValidatorCompiler as never } },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request completed',
    );
  });
  // UUIDs are case-insensitive; ids are stored in lower case.
  app.addHook('preHandler', async (request) => {
    const params = request.params as Record<string, unknown> | undefined;
    if (!params) return;
    for (const [name, value] of Object.entries(params)) {
      if (typeof value === 'string' && UUID.test(value)) params[name] = value.toLowerCase();
    }
  });

  const keys = new KeysService({ store, clock, newId: generateId, cacheTtlMs: config.authCacheTtlMs });
  const agents = new AgentsService({ store, clock, newId: generateId });
  const threads = new ThreadsService({ store, clock, newId: generateId });
  const idempotency = new Idempotency({ store, clock });

  registerErrorHandling(app);
  registerAuthentication(app, keys, { publicPrefixes: ['/docs'] });
  await registerOpenApi(app, PARLEY_VERSION);
  registerHealthRoutes(app, { store, isShuttingDown: () => shuttingDown });
  registerAgentRoutes(app, { agents, idempotency });
  registerThreadRoutes(app, { threads, idempotency });
  registerKeyRoutes(app, { keys, idempotency });
  await app.ready();

  return {
    app,
    keys,
    beginShutdown: () => {
      shuttingDown = true;
    },
  };
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
