import { ProxyTracerProvider, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { ObservabilityConfig } from '../config-observability.js';
import { PlannedIds, type TraceIds } from './run-trace.js';

export interface Tracing {
  readonly tracer: Tracer;
  /** Whether spans are recorded and exported (an exporter or an OTLP endpoint is configured). */
  readonly enabled: boolean;
  /** Starts the one span `start` starts with these ids (a run's first span, run-trace.ts). */
  withIds<T>(ids: TraceIds, start: () => T): T;
  /** Sends the spans still buffered and stops; the app calls it when it closes. */
  shutdown(): Promise<void>;
}

/**
 * The app's own tracer provider — never the global one, so apps in one process (tests, `parley
 * worker` beside `serve`) keep their spans apart, and nothing else in the process (a library that
 * traces through the global API) exports through ours. Spans are parented explicitly (see
 * run-telemetry.ts), so no context manager is registered either.
 *
 * - `exporter` given (tests: the SDK's InMemorySpanExporter): each span is handed to it as it ends.
 * - `otlpTracesUrl` set: OTLP/HTTP with JSON bodies (the exporter's encoding), through a
 *   batch processor, which buffers up to 2048 spans and sends every 5 s; spans beyond the buffer
 *   are dropped rather than slowing a request.
 * - neither: the API's no-op tracer; spans cost an object each and record nothing.
 */
export function createTracing(input: {
  config: ObservabilityConfig;
  version: string;
  exporter?: SpanExporter | undefined;
}): Tracing {
  const { config, exporter } = input;
  if (!exporter && config.otlpTracesUrl === undefined) {
    return {
      tracer: new ProxyTracerProvider().getTracer('parley'),
      enabled: false,
      withIds: (_ids, start) => start(),
      shutdown: () => Promise.resolve(),
    };
  }
  const processor = exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: config.otlpTracesUrl }));
  const ids = new PlannedIds();
  const provider = new BasicTracerProvider({
    idGenerator: ids,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: input.version,
    }),
    spanProcessors: [processor],
  });
  return {
    tracer: provider.getTracer('parley', input.version),
    enabled: true,
    withIds: (planned, start) => ids.withIds(planned, start),
    shutdown: () => provider.shutdown(),
  };
}
