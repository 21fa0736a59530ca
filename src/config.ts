import path from 'node:path';
import { readWidgetConfig, type WidgetConfig } from './config-widget.js';
import { ConfigError, readInteger, readOptional, readString } from './config-values.js';
import type { DatabaseTarget, Environment } from './config-values.js';
import { readMcpConfig, type McpConfig } from './config-mcp.js';
import { readKnowledgeConfig, type KnowledgeConfig } from './config-knowledge.js';
import { readJobsConfig, type JobsConfig } from './config-jobs.js';
import { readWebhooksConfig, type WebhooksConfig } from './config-webhooks.js';
import { MODEL_DEFAULTS, readModels, type ModelProvidersConfig } from './config-models.js';
import { readPricingOverrides, type PricingOverrides } from './config-pricing.js';
import { readRateLimitsConfig, type RateLimitsConfig } from './config-rate-limits.js';
import { readLiveConfig, type LiveConfig } from './config-live.js';
import { readObservabilityConfig, type ObservabilityConfig } from './config-observability.js';
import { OutboundAllowListError, parseOutboundAllow, type OutboundAllowList } from './outbound/allow-list.js';

/**
 * Configuration is read once, from the environment, into a frozen object. Nothing else in the
 * code reads `process.env`; a bad value fails start-up naming the variable.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type { DatabaseTarget } from './config-values.js';
export type { ModelProvidersConfig } from './config-models.js';

export interface RuntimeConfig {
  /** Deadline of one tool call. */
  readonly toolTimeoutMs: number;
  /** How long a tool call waits for approval before it is rejected as `expired`. */
  readonly toolApprovalTimeoutMs: number;
  /** Largest tool result stored, as JSON bytes; a larger one is stored cut, with a marker. */
  readonly toolResultMaxBytes: number;
  /** Largest tool result the model is sent, as JSON bytes; a larger one is sent as head and tail. */
  readonly toolResultModelBytes: number;
  /** Deadline of one whole agent run. */
  readonly runTimeoutMs: number;
  /** Idle SSE streams get a comment this often, so proxies keep them open. */
  readonly sseKeepAliveMs: number;
  /**
   * How often this process records in the database that it is alive; three missed beats and
   * any other process fails its runs (docs/adr/0007-process-heartbeats.md).
   */
  readonly processHeartbeatMs: number;
}

/** Limits on event streams, per tenant and per process (docs/streaming.md, "Limits"). */
export interface StreamsConfig {
  /** Open event streams per credential (API key); 0 for no limit. */
  readonly maxPerKey: number;
  /** Open event streams per organisation, over all its keys; 0 for no limit. */
  readonly maxPerOrganization: number;
  /** Bytes a stream may have written that its client has not read before it is ended. */
  readonly maxBacklogBytes: number;
  /** The same over every stream of the process; beyond it the largest backlogs are dropped. */
  readonly maxBufferedBytes: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseTarget;
  readonly logLevel: LogLevel;
  /** How long a verified API key is trusted without a database look-up (other processes' revocations). */
  readonly authCacheTtlMs: number;
  /** Failed authentications one address may make per minute before it gets 429 (0: no limit). */
  readonly authFailureLimitPerMinute: number;
  /** Browser origins allowed to call the API (`*`: any); empty: CORS is off. */
  readonly corsOrigins: readonly string[] | '*';
  /**
   * `PARLEY_SECRET_KEY` (or the first of `PARLEY_SECRET_KEYS`), decoded: the server's root
   * secret, from which the keys for signing stream tokens and for encrypting secrets at rest are
   * derived. Undefined when neither is set: the root is then the one generated into
   * `secretKeyFile` (src/security/secret-key-file.ts).
   */
  readonly secretKey: Buffer | undefined;
  /**
   * The rest of `PARLEY_SECRET_KEYS`: older roots, still accepted to open secrets sealed before a
   * rotation (nothing new is sealed or signed with them). Empty unless that variable is set.
   */
  readonly retiredSecretKeys: readonly Buffer[];
  /**
   * Where the root secret is generated (mode 0600, on first start) and read back when no key is
   * configured: `secret.key` beside the SQLite file, or `./data/secret.key` with PostgreSQL.
   * Undefined for an in-memory database, whose process then makes a random root of its own.
   */
  readonly secretKeyFile: string | undefined;
  /** How long a stream token is valid after it is issued, in seconds. */
  readonly streamTokenTtlSeconds: number;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** Deadline for graceful shutdown before the process gives up on in-flight work. */
  readonly shutdownTimeoutMs: number;
  /** PostgreSQL pool size (ignored for SQLite). */
  readonly postgresPoolSize: number;
  readonly models: ModelProvidersConfig;
  readonly runtime: RuntimeConfig;
  readonly streams: StreamsConfig;
  /**
   * The guarded outbound client's settings (docs/security.md, "Outbound requests"). `allow`:
   * `OUTBOUND_ALLOW`, private destinations the operator allows (host[:port], IP[:port] or CIDR).
   */
  readonly outbound: { readonly allow: OutboundAllowList };
  readonly mcp: McpConfig;
  readonly knowledge: KnowledgeConfig;
  /** The chat widget: visitor tokens and anonymous rate limits (config-widget.ts, docs/widget.md). */
  readonly widget: WidgetConfig;
  /** The durable job queue and this process's workers (docs/jobs.md). */
  readonly jobs: JobsConfig;
  /** `MODEL_PRICING`: the operator's model prices over the built-in ones (docs/usage.md). */
  readonly pricing: PricingOverrides;
  /** Requests per API key and per organisation, and where every limit counts (config-rate-limits.ts). */
  readonly rateLimits: RateLimitsConfig;
  /** Signed webhooks: retries, timeouts, secret rotation overlap (config-webhooks.ts, docs/webhooks.md). */
  readonly webhooks: WebhooksConfig;
  /** The live layer: in memory, or shared by every process through Redis (config-live.ts). */
  readonly live: LiveConfig;
  /** Metrics and traces: METRICS_TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT (config-observability.ts). */
  readonly observability: ObservabilityConfig;
}

export { ConfigError } from './config-values.js';
export type { McpConfig } from './config-mcp.js';
export type { RateLimitsConfig } from './config-rate-limits.js';
export type { LiveConfig } from './config-live.js';
export type { ObservabilityConfig } from './config-observability.js';

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULTS = {
  PORT: 8080,
  HOST: '127.0.0.1',
  DATABASE_URL: 'sqlite:./data/parley.db',
  LOG_LEVEL: 'info',
  AUTH_CACHE_TTL_MS: 5000,
  AUTH_FAILURE_LIMIT_PER_MINUTE: 100,
  BODY_LIMIT_BYTES: 1024 * 1024,
  SHUTDOWN_TIMEOUT_MS: 10_000,
  PG_POOL_SIZE: 10,
  ...MODEL_DEFAULTS,
  TOOL_TIMEOUT_MS: 10_000,
  TOOL_APPROVAL_TIMEOUT_MS: 600_000,
  TOOL_RESULT_MAX_BYTES: 1024 * 1024,
  TOOL_RESULT_MODEL_BYTES: 64 * 1024,
  RUN_TIMEOUT_MS: 300_000,
  SSE_KEEP_ALIVE_MS: 15_000,
  PROCESS_HEARTBEAT_MS: 2000,
  SSE_MAX_STREAMS_PER_KEY: 100,
  SSE_MAX_STREAMS_PER_ORGANIZATION: 1000,
  SSE_MAX_BACKLOG_BYTES: 1024 * 1024,
  SSE_MAX_BUFFERED_BYTES: 64 * 1024 * 1024,
  STREAM_TOKEN_TTL_SECONDS: 300,
  MCP_HEALTH_CHECK_INTERVAL_MS: 300_000,
} as const;

/** The shortest `PARLEY_SECRET_KEY`, in bytes: 256 bits, the size of the HMAC-SHA256 keys it makes. */
export const MIN_SECRET_KEY_BYTES = 32;

export function loadConfig(environment: Environment = process.env, cwd = process.cwd()): Config {
  const database = parseDatabaseUrl(readString(environment, 'DATABASE_URL', DEFAULTS.DATABASE_URL), cwd);
  const port = readInteger(environment, 'PORT', DEFAULTS.PORT, { min: 0, max: 65535 });
  const host = readString(environment, 'HOST', DEFAULTS.HOST);
  return Object.freeze({
    port,
    host,
    database,
    logLevel: readLogLevel(environment),
    authCacheTtlMs: readInteger(environment, 'AUTH_CACHE_TTL_MS', DEFAULTS.AUTH_CACHE_TTL_MS, {
      min: 0,
      max: 3_600_000,
    }),
    authFailureLimitPerMinute: readInteger(
      environment,
      'AUTH_FAILURE_LIMIT_PER_MINUTE',
      DEFAULTS.AUTH_FAILURE_LIMIT_PER_MINUTE,
      { min: 0, max: 1_000_000 },
    ),
    corsOrigins: readCorsOrigins(environment),
    ...readSecretKeys(environment),
    secretKeyFile: secretKeyFileFor(database, cwd),
    streamTokenTtlSeconds: readInteger(environment, 'STREAM_TOKEN_TTL_SECONDS', DEFAULTS.STREAM_TOKEN_TTL_SECONDS, {
      min: 10,
      max: 3600,
    }),
    bodyLimitBytes: readInteger(environment, 'BODY_LIMIT_BYTES', DEFAULTS.BODY_LIMIT_BYTES, {
      min: 1024,
      max: 1024 * 1024 * 1024,
    }),
    shutdownTimeoutMs: readInteger(environment, 'SHUTDOWN_TIMEOUT_MS', DEFAULTS.SHUTDOWN_TIMEOUT_MS, {
      min: 100,
      max: 600_000,
    }),
    postgresPoolSize: readInteger(environment, 'PG_POOL_SIZE', DEFAULTS.PG_POOL_SIZE, { min: 1, max: 1000 }),
    models: readModels(environment),
    runtime: readRuntime(environment),
    streams: readStreams(environment),
    outbound: Object.freeze({ allow: readOutboundAllow(environment) }),
    mcp: readMcpConfig(environment, { intervalMs: DEFAULTS.MCP_HEALTH_CHECK_INTERVAL_MS, host, port }),
    knowledge: readKnowledgeConfig(environment, { database, cwd }),
    widget: readWidgetConfig(environment),
    jobs: readJobsConfig(environment),
    pricing: readPricingOverrides(environment),
    rateLimits: readRateLimitsConfig(environment),
    webhooks: readWebhooksConfig(environment),
    live: readLiveConfig(environment),
    observability: readObservabilityConfig(environment),
  });
}

/** `OUTBOUND_ALLOW=127.0.0.1:4010,10.20.0.0/16,tools.corp.example`; empty: public destinations only. */
function readOutboundAllow(environment: Environment): OutboundAllowList {
  try {
    return parseOutboundAllow(readOptional(environment, 'OUTBOUND_ALLOW') ?? '');
  } catch (error) {
    if (error instanceof OutboundAllowListError) throw new ConfigError('OUTBOUND_ALLOW', error.message);
    throw error;
  }
}

function readRuntime(environment: Environment): RuntimeConfig {
  return Object.freeze({
    toolTimeoutMs: readInteger(environment, 'TOOL_TIMEOUT_MS', DEFAULTS.TOOL_TIMEOUT_MS, { min: 1, max: 600_000 }),
    toolApprovalTimeoutMs: readInteger(environment, 'TOOL_APPROVAL_TIMEOUT_MS', DEFAULTS.TOOL_APPROVAL_TIMEOUT_MS, {
      min: 1000,
      max: 7 * 24 * 3_600_000,
    }),
    toolResultMaxBytes: readInteger(environment, 'TOOL_RESULT_MAX_BYTES', DEFAULTS.TOOL_RESULT_MAX_BYTES, {
      min: 1024,
      max: 64 * 1024 * 1024,
    }),
    toolResultModelBytes: readInteger(environment, 'TOOL_RESULT_MODEL_BYTES', DEFAULTS.TOOL_RESULT_MODEL_BYTES, {
      min: 1024,
      max: 16 * 1024 * 1024,
    }),
    runTimeoutMs: readInteger(environment, 'RUN_TIMEOUT_MS', DEFAULTS.RUN_TIMEOUT_MS, { min: 1000, max: 3_600_000 }),
    sseKeepAliveMs: readInteger(environment, 'SSE_KEEP_ALIVE_MS', DEFAULTS.SSE_KEEP_ALIVE_MS, {
      min: 100,
      max: 600_000,
    }),
    processHeartbeatMs: readInteger(environment, 'PROCESS_HEARTBEAT_MS', DEFAULTS.PROCESS_HEARTBEAT_MS, {
      min: 100,
      max: 60_000,
    }),
  });
}

function readStreams(environment: Environment): StreamsConfig {
  const count = { min: 0, max: 1_000_000 };
  const bytes = { min: 1024, max: 1024 * 1024 * 1024 };
  return Object.freeze({
    maxPerKey: readInteger(environment, 'SSE_MAX_STREAMS_PER_KEY', DEFAULTS.SSE_MAX_STREAMS_PER_KEY, count),
    maxPerOrganization: readInteger(
      environment,
      'SSE_MAX_STREAMS_PER_ORGANIZATION',
      DEFAULTS.SSE_MAX_STREAMS_PER_ORGANIZATION,
      count,
    ),
    maxBacklogBytes: readInteger(environment, 'SSE_MAX_BACKLOG_BYTES', DEFAULTS.SSE_MAX_BACKLOG_BYTES, bytes),
    maxBufferedBytes: readInteger(environment, 'SSE_MAX_BUFFERED_BYTES', DEFAULTS.SSE_MAX_BUFFERED_BYTES, bytes),
  });
}

/** `CORS_ORIGINS=https://app.example,http://localhost:5173`, or `*`; each an origin exactly. */
function readCorsOrigins(environment: Environment): readonly string[] | '*' {
  const raw = readOptional(environment, 'CORS_ORIGINS');
  if (raw === undefined) return Object.freeze([]);
  if (raw === '*') return '*';
  const origins = raw.split(',').map((origin) => origin.trim());
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError('CORS_ORIGINS', `must be * or origins like https://app.example, got "${origin}"`);
    }
  }
  return Object.freeze(origins);
}

/**
 * `PARLEY_SECRET_KEY`, or `PARLEY_SECRET_KEYS=new,old,…` during a rotation (the first seals and
 * signs, every one opens); not both, so which key is current is never ambiguous.
 */
function readSecretKeys(environment: Environment): Pick<Config, 'secretKey' | 'retiredSecretKeys'> {
  const single = readOptional(environment, 'PARLEY_SECRET_KEY');
  const list = readOptional(environment, 'PARLEY_SECRET_KEYS');
  if (single !== undefined && list !== undefined) {
    throw new ConfigError(
      'PARLEY_SECRET_KEYS',
      'cannot be set together with PARLEY_SECRET_KEY (list the current key first)',
    );
  }
  if (list === undefined) {
    return {
      secretKey: single === undefined ? undefined : decodeSecretKey('PARLEY_SECRET_KEY', single),
      retiredSecretKeys: [],
    };
  }
  const keys = list
    .split(',')
    .map((entry, index) => decodeSecretKey(`PARLEY_SECRET_KEYS (entry ${index + 1})`, entry.trim()));
  return { secretKey: keys[0], retiredSecretKeys: Object.freeze(keys.slice(1)) };
}

/**
 * One root secret: at least 32 random bytes written as hexadecimal (`openssl rand -hex 32`).
 * Hex only, not base64 as well: a hex string is also valid base64url, so accepting both would make
 * one value mean two keys. The error never repeats the value: it is a secret.
 */
function decodeSecretKey(variable: string, value: string): Buffer {
  const minimum = `at least ${MIN_SECRET_KEY_BYTES * 2} hexadecimal characters (${MIN_SECRET_KEY_BYTES} random bytes, e.g. from \`openssl rand -hex ${MIN_SECRET_KEY_BYTES}\`)`;
  if (!/^[0-9a-f]*$/i.test(value)) throw new ConfigError(variable, `must be ${minimum}; it holds other characters`);
  if (value.length % 2 !== 0) throw new ConfigError(variable, `must be ${minimum}; it has an odd length`);
  if (value.length < MIN_SECRET_KEY_BYTES * 2) {
    throw new ConfigError(variable, `must be ${minimum}; it has ${value.length}`);
  }
  return Buffer.from(value, 'hex');
}

/** The data folder's key file: beside the SQLite file, or `./data/` for PostgreSQL; none in memory. */
export function secretKeyFileFor(database: DatabaseTarget, cwd: string): string | undefined {
  if (database.kind === 'postgres') return path.resolve(cwd, 'data', SECRET_KEY_FILE_NAME);
  if (database.filename === ':memory:') return undefined;
  return path.join(path.dirname(database.filename), SECRET_KEY_FILE_NAME);
}

export const SECRET_KEY_FILE_NAME = 'secret.key';

/** `sqlite:<relative or absolute path>` (or `sqlite::memory:`), or a `postgres://`/`postgresql://` URL. */
export function parseDatabaseUrl(url: string, cwd: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const location = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (location === '') throw new ConfigError('DATABASE_URL', 'names no SQLite file (use sqlite:./data/parley.db)');
    if (location === ':memory:') return Object.freeze({ kind: 'sqlite', filename: ':memory:' });
    return Object.freeze({ kind: 'sqlite', filename: path.resolve(cwd, location) });
  }
  if (/^postgres(?:ql)?:\/\//.test(url)) {
    return Object.freeze({ kind: 'postgres', connectionString: url });
  }
  throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://');
}

function readLogLevel(environment: Environment): LogLevel {
  const value = readString(environment, 'LOG_LEVEL', DEFAULTS.LOG_LEVEL).toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as LogLevel;
}
