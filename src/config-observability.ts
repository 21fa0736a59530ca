import { ConfigError, readOptional, readString, type Environment } from './config-values.js';

/** Metrics and traces (docs/observability.md). */
export interface ObservabilityConfig {
  /**
   * `METRICS_ENABLED` (default `true`): `false` leaves requests, runs, tool calls and stores
   * uninstrumented; `/metrics` then serves the event-loop figures alone.
   */
  readonly metricsEnabled: boolean;
  /** `METRICS_TOKEN`: when set, `/metrics` needs `Authorization: Bearer <token>` (401 otherwise). */
  readonly metricsToken: string | undefined;
  /**
   * Where spans are sent by OTLP/HTTP: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, or
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; undefined (neither set): no tracing.
   */
  readonly otlpTracesUrl: string | undefined;
  /** `OTEL_SERVICE_NAME` (default `parley`): the `service.name` of the spans' resource. */
  readonly serviceName: string;
}

export function readObservabilityConfig(environment: Environment): ObservabilityConfig {
  const enabled = readString(environment, 'METRICS_ENABLED', 'true').toLowerCase();
  if (enabled !== 'true' && enabled !== 'false') {
    throw new ConfigError('METRICS_ENABLED', `must be true or false, got "${enabled}"`);
  }
  const token = readOptional(environment, 'METRICS_TOKEN');
  if (token !== undefined && token.length < 16) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters (e.g. from `openssl rand -hex 16`)');
  }
  return Object.freeze({
    metricsEnabled: enabled === 'true',
    metricsToken: token,
    otlpTracesUrl: readTracesUrl(environment),
    serviceName: readString(environment, 'OTEL_SERVICE_NAME', 'parley'),
  });
}

/** The OTLP/HTTP traces URL, as the OpenTelemetry exporter specification builds it. */
function readTracesUrl(environment: Environment): string | undefined {
  const signal = readOptional(environment, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = readOptional(environment, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const [name, url] =
    signal !== undefined
      ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', signal]
      : base !== undefined
        ? ['OTEL_EXPORTER_OTLP_ENDPOINT', `${base.endsWith('/') ? base.slice(0, -1) : base}/v1/traces`]
        : [undefined, undefined];
  if (name === undefined || url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(name, `must be an http:// or https:// URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, got "${url}"`);
  }
  return parsed.toString();
}
