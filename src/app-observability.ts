import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import { EventLoopMonitor } from './features/health/event-loop-monitor.js';
import type { SseRegistry } from './http/sse-registry.js';
import type { Clock } from './ids.js';
import { AppMetrics, NO_RUNTIME_METRICS } from './observability/metrics.js';
import type { Telemetry } from './observability/run-telemetry.js';
import { createTracing } from './observability/tracing.js';
import type { Store } from './storage/store.js';
import { PARLEY_VERSION } from './version.js';

/**
 * The app's metrics (served at `/metrics`) and tracer, and the telemetry the runtime reports to
 * (docs/observability.md, docs/adr/0034-observability.md). The event-loop figures are always
 * there; with `METRICS_ENABLED=false` nothing else is measured. Everything stops with the app:
 * the loop monitor, the group-commit listener, the tracer (which sends its last spans).
 */
export function createObservability(input: {
  app: FastifyInstance;
  dependencies: { config: Config; store: Store; spanExporter?: SpanExporter | undefined };
  clock: Clock;
  sse: SseRegistry;
}): { metrics: AppMetrics; telemetry: Telemetry; scrape: { metrics: Registry; metricsToken: string | undefined } } {
  const { app, clock } = input;
  const { config, store, spanExporter } = input.dependencies;
  const metrics = new AppMetrics();
  const eventLoop = new EventLoopMonitor(metrics.registry);
  const tracing = createTracing({
    config: config.observability,
    version: PARLEY_VERSION,
    exporter: spanExporter,
  });
  const enabled = config.observability.metricsEnabled;
  const stopBatches = enabled ? store.diagnostics.onBatch((size) => metrics.groupCommitBatch(size)) : () => {};
  if (enabled) {
    registerHttpMetrics(app, metrics);
    metrics.readOnScrape({
      queues: { read: () => store.jobs.queueFigures({ now: clock.now().toISOString() }), now: () => clock.now() },
      sseConnections: () => input.sse.size,
      ...(store.diagnostics.pool() === null ? {} : { pool: () => store.diagnostics.pool() }),
    });
  }
  app.addHook('onClose', async () => {
    eventLoop.stop();
    stopBatches();
    await tracing.shutdown();
  });
  const telemetry: Telemetry = {
    metrics: enabled ? metrics : NO_RUNTIME_METRICS,
    tracer: tracing.tracer,
    parent: ROOT_CONTEXT,
    withIds: tracing.withIds,
  };
  const scrape = { metrics: metrics.registry, metricsToken: config.observability.metricsToken };
  return { metrics, telemetry, scrape };
}

/**
 * Every answered request's duration by method, route template (`unmatched` when no route did)
 * and status class. Event streams take over their reply (SSE), so Fastify runs no `onResponse`
 * for them: a stream's life is not a request latency. Callback-style, as the other request hooks.
 */
function registerHttpMetrics(app: FastifyInstance, metrics: AppMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
    done();
  });
}
