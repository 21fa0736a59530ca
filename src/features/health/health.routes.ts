import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors.js';
import { sendError } from '../../http/error-handler.js';
import { ErrorResponse } from '../../http/schemas.js';
import type { Store } from '../../storage/store.js';

/**
 * `/healthz`: the process is alive. `/readyz`: it can serve traffic now — the database answers, the
 * server has finished compiling its route schemas after start and is not shutting down (a load
 * balancer should stop sending requests on 503).
 * `/metrics`: the app's metrics registry (docs/observability.md) for Prometheus. All three are
 * public, for probes and scrapers, and tell nothing about any organisation — but for `/metrics`
 * when `METRICS_TOKEN` is set: it then needs `Authorization: Bearer <token>`.
 */
export function registerHealthRoutes(
  parent: FastifyInstance,
  dependencies: {
    store: Store;
    metrics: Registry;
    metricsToken?: string | undefined;
    isShuttingDown: () => boolean;
    /** While `warmingUp`, the process still compiles route schemas after listen (`parley serve`). */
    schemas: { readonly warmingUp: boolean };
  },
): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const Status = Type.Object({ status: Type.String() });
  const common = { tags: ['health'], 'x-parley-extension': true, security: [] };

  app.get('/healthz', {
    config: { public: true },
    schema: { ...common, operationId: 'getLiveness', summary: 'Liveness', response: { 200: Status } },
    handler: async () => ({ status: 'ok' }),
  });

  app.get('/readyz', {
    config: { public: true },
    schema: { ...common, operationId: 'getReadiness', summary: 'Readiness', response: { 200: Status } },
    handler: async (request, reply) => {
      if (dependencies.isShuttingDown()) throw new AppError('service_unavailable');
      // Expected at every start, so answered without the error log a thrown 5xx gets.
      if (dependencies.schemas.warmingUp)
        return sendError(reply, request, new AppError('service_unavailable', WARMING));
      try {
        await dependencies.store.ping();
      } catch {
        // The cause is logged by nobody else: the probe's job is the answer, not the details.
        throw new AppError('service_unavailable', { message: 'The database is not reachable.' });
      }
      return { status: 'ready' };
    },
  });

  app.get('/metrics', {
    config: { public: true },
    schema: {
      ...common,
      operationId: 'getMetrics',
      summary: 'Metrics (Prometheus text format)',
      response: {
        200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Type.String() } } },
        401: Type.Ref(ErrorResponse),
      },
    },
    handler: async (request, reply) => {
      const { metrics, metricsToken } = dependencies;
      if (metricsToken !== undefined && !bearerMatches(request, metricsToken)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new AppError('invalid_metrics_token');
      }
      return reply.type(metrics.contentType).send(await metrics.metrics());
    },
  });
}

const WARMING = { message: 'The server is still compiling its route schemas.' };

/** Whether the request's `Authorization: Bearer` token is `token`, compared in constant time (as digests). */
function bearerMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
  if (!match?.[1]) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}
