import path from 'node:path';

/**
 * Configuration is read once, from the environment, into a frozen object. Nothing else in the
 * code reads `process.env`; a bad value fails start-up naming the variable.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly filename: string }
  | { readonly kind: 'postgres'; readonly connectionString: string };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseTarget;
  readonly logLevel: LogLevel;
  /** How long a verified API key is trusted without a database look-up (other processes' revocations). */
  readonly authCacheTtlMs: number;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** Deadline for graceful shutdown before the process gives up on in-flight work. */
  readonly shutdownTimeoutMs: number;
  /** PostgreSQL pool size (ignored for SQLite). */
  readonly postgresPoolSize: number;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULTS = {
  PORT: 8080,
  HOST: '127.0.0.1',
  DATABASE_URL: 'sqlite:./data/parley.db',
  LOG_LEVEL: 'info',
  AUTH_CACHE_TTL_MS: 5000,
  BODY_LIMIT_BYTES: 1024 * 1024,
  SHUTDOWN_TIMEOUT_MS: 10_000,
  PG_POOL_SIZE: 10,
} as const;

type Environment = Readonly<Record<string, string | undefined>>;

export function loadConfig(environment: Environment = process.env, cwd = process.cwd()): Config {
  return Object.freeze({
    port: readInteger(environment, 'PORT', DEFAULTS.PORT, { min: 0, max: 65535 }),
    host: readString(environment, 'HOST', DEFAULTS.HOST),
    database: parseDatabaseUrl(readString(environment, 'DATABASE_URL', DEFAULTS.DATABASE_URL), cwd),
    logLevel: readLogLevel(environment),
    authCacheTtlMs: readInteger(environment, 'AUTH_CACHE_TTL_MS', DEFAULTS.AUTH_CACHE_TTL_MS, {
      min: 0,
      max: 3_600_000,
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
  });
}

/** `sqlite:<relative or absolute path>` (or `sqlite::memory:`), or a `postgres://`/`postgresql://` URL. */
export function parseDatabaseUrl(url: string, cwd: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const location = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (location === '') throw new ConfigError('DATABASE_URL', 'names no SQLite file (use sqlite:./data/parley.db)');
    if (location === ':memory:') return Object.freeze({ kind: 'sqlite', filename: ':memory:' });
    return Object.freeze({ kind: 'sqlite', filename: path.resolve(cwd, location) });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    return Object.freeze({ kind: 'postgres', connectionString: url });
  }
  throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://');
}

function readString(environment: Environment, name: string, fallback: string): string {
  const value = environment[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function readInteger(
  environment: Environment,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const raw = environment[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < range.min || value > range.max) {
    throw new ConfigError(name, `must be between ${range.min} and ${range.max}, got ${value}`);
  }
  return value;
}

function readLogLevel(environment: Environment): LogLevel {
  const value = readString(environment, 'LOG_LEVEL', DEFAULTS.LOG_LEVEL).toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as LogLevel;
}
