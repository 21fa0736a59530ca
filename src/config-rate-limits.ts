import { ConfigError, readInteger, readOptional, readString, type Environment } from './config-values.js';
import { isClusterUrl, parseClusterUrl } from './redis-client.js';

/**
 * Request rate limits on authenticated API traffic (docs/security.md, "Rate limits";
 * docs/adr/0031-rate-limits.md). Each budget is a number of requests per minute; 0 turns it off.
 * The widget's anonymous limits are in config-widget.ts, the authentication-failure limit in
 * config.ts: all of them count in the same place, chosen by `REDIS_URL`.
 */
export interface RateLimitsConfig {
  /** `RATE_LIMIT_PER_KEY`: requests one API key may make per minute. */
  readonly perKeyPerMinute: number;
  /** `RATE_LIMIT_PER_ORG`: requests all the keys of one organisation may make together per minute. */
  readonly perOrganizationPerMinute: number;
  /**
   * `REDIS_URL`: where the counters live, shared by every process that names the same server;
   * undefined: in this process's memory.
   */
  readonly redisUrl: string | undefined;
  /** `RATE_LIMIT_REDIS_PREFIX`: the prefix of the counters' Redis keys (several deployments, one Redis). */
  readonly redisKeyPrefix: string;
  /**
   * `RATE_LIMIT_REDIS_TIMEOUT_MS`: how long a request waits for Redis's answer before it is
   * counted in this process's memory instead (a Redis that accepts connections but hangs).
   */
  readonly redisTimeoutMs: number;
}

export const RATE_LIMIT_DEFAULTS = {
  RATE_LIMIT_PER_KEY: 1000,
  RATE_LIMIT_PER_ORG: 5000,
  RATE_LIMIT_REDIS_PREFIX: 'parley:rate',
  RATE_LIMIT_REDIS_TIMEOUT_MS: 500,
} as const;

export function readRateLimitsConfig(environment: Environment): RateLimitsConfig {
  const rate = { min: 0, max: 100_000_000 };
  return Object.freeze({
    perKeyPerMinute: readInteger(environment, 'RATE_LIMIT_PER_KEY', RATE_LIMIT_DEFAULTS.RATE_LIMIT_PER_KEY, rate),
    perOrganizationPerMinute: readInteger(
      environment,
      'RATE_LIMIT_PER_ORG',
      RATE_LIMIT_DEFAULTS.RATE_LIMIT_PER_ORG,
      rate,
    ),
    redisUrl: readRedisUrl(environment),
    redisKeyPrefix: readString(environment, 'RATE_LIMIT_REDIS_PREFIX', RATE_LIMIT_DEFAULTS.RATE_LIMIT_REDIS_PREFIX),
    redisTimeoutMs: readInteger(
      environment,
      'RATE_LIMIT_REDIS_TIMEOUT_MS',
      RATE_LIMIT_DEFAULTS.RATE_LIMIT_REDIS_TIMEOUT_MS,
      { min: 10, max: 60_000 },
    ),
  });
}

/**
 * `redis://` or `rediss://` (TLS), or `redis+cluster://` / `rediss+cluster://` with comma-separated
 * seed nodes (a Redis Cluster, src/redis-client.ts); the value is never repeated in an error: it
 * may hold a password.
 */
export function readRedisUrl(environment: Environment): string | undefined {
  const url = readOptional(environment, 'REDIS_URL');
  if (url === undefined) return undefined;
  if (!/^rediss?(?:\+cluster)?:\/\/[^/]/.test(url))
    throw new ConfigError('REDIS_URL', 'must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL');
  if (isClusterUrl(url)) {
    try {
      parseClusterUrl(url);
    } catch {
      throw new ConfigError('REDIS_URL', 'must list its cluster nodes as host:port, comma-separated');
    }
  }
  return url;
}
