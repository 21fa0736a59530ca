import type { FastifyBaseLogger } from 'fastify';
import { createRedisClient, type RedisClient } from '../redis-client.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import { UNLIMITED, type RateLimitDecision, type RateLimiter, type RateLimitState } from './rate-limiter.js';

/**
 * Where every rate limit counts (docs/adr/0031-rate-limits.md): fixed windows, in this
 * process's memory (memory-rate-limiter.ts, bounded) or — with `REDIS_URL` — in Redis through
 * rate-limiter-flexible, where an atomic increment per request makes N processes share one
 * budget. The only module that imports the library or opens a Redis connection for limits.
 *
 * When Redis cannot be reached the limits fail open to memory: each process goes on counting in
 * its own bounded memory, so a client gets at most N times its budget behind N processes until
 * Redis is back — never unlimited, never unbounded memory, and never an error for the caller.
 * The change is logged once each way.
 */
export interface RateLimiterStore {
  /** `perMinute` requests per key a minute, counted under `name`; UNLIMITED when 0. */
  limiter(name: string, perMinute: number): RateLimiter;
  /** Closes the Redis connection, if any. */
  close(): Promise<void>;
  /** Whether the Redis client is connected and ready; undefined when the limits count in memory. */
  readonly redisReady: (() => boolean) | undefined;
}

export interface RedisSettings {
  url: string;
  /** Before every counter's key: several deployments can share one Redis. */
  keyPrefix: string;
  /** A command slower than this counts as Redis unreachable: the request is limited in memory. */
  timeoutMs: number;
}

export const WINDOW_SECONDS = 60;
export { MAX_TRACKED_KEYS } from './memory-rate-limiter.js';

export function createRateLimiterStore(input: {
  /** Where the counters are shared; in memory when absent. */
  redis?: RedisSettings | undefined;
  log: FastifyBaseLogger;
}): RateLimiterStore {
  const settings = input.redis;
  if (settings === undefined) {
    return {
      limiter: (_name, perMinute) => (perMinute > 0 ? new MemoryRateLimiter(perMinute, WINDOW_SECONDS) : UNLIMITED),
      close: () => Promise.resolve(),
      redisReady: undefined,
    };
  }
  const redis = connect(settings, input.log);
  return {
    limiter: (name, perMinute) => {
      if (perMinute === 0) return UNLIMITED;
      const limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${settings.keyPrefix}:${name}`,
        points: perMinute,
        duration: WINDOW_SECONDS,
        // Not connected: straight to memory rather than waiting for a reconnection.
        rejectIfRedisNotReady: true,
      });
      return new RedisRateLimiter(limiter, new MemoryRateLimiter(perMinute, WINDOW_SECONDS));
    },
    close: () => {
      redis.disconnect();
      return Promise.resolve();
    },
    redisReady: () => redis.status === 'ready',
  };
}

/**
 * One client for every limiter. Commands fail fast instead of queueing while disconnected
 * (`enableOfflineQueue: false`) or hanging on a dead connection (`commandTimeout`), so a request
 * never waits on Redis for longer than that; ioredis reconnects in the background. Auto-pipelining
 * sends the key and organisation increments of one request in one write.
 */
function connect(settings: RedisSettings, log: FastifyBaseLogger): RedisClient {
  const redis = createRedisClient(settings.url, { enableAutoPipelining: true, commandTimeout: settings.timeoutMs });
  // Undefined until the first connection: a start with Redis down logs once, as a later loss does.
  let reachable: boolean | undefined;
  redis.on('error', (error: Error) => {
    if (reachable === false) return;
    reachable = false;
    log.warn({ err: error }, 'Redis unreachable: rate limits count in this process’s memory until it is back');
  });
  redis.on('ready', () => {
    if (reachable === true) return;
    log.info(
      reachable === undefined
        ? 'Redis connected: rate limits are shared by every process using it'
        : 'Redis reachable again: rate limits are shared by every process using it',
    );
    reachable = true;
  });
  return redis;
}

/**
 * The port over the library's Redis limiter, with this process's memory as the fallback for
 * any call Redis does not answer (not connected, timed out, an error): the library rejects with
 * its result when the budget is spent, and with an Error otherwise.
 */
class RedisRateLimiter implements RateLimiter {
  readonly limit: number;

  constructor(
    private readonly redis: RateLimiterRedis,
    private readonly memory: MemoryRateLimiter,
  ) {
    this.limit = memory.limit;
  }

  async consume(key: string): Promise<RateLimitDecision> {
    try {
      return this.#decision(await this.redis.consume(key), true);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return this.#decision(rejection, false);
      return this.memory.consume(key);
    }
  }

  async refund(key: string): Promise<void> {
    try {
      await this.redis.reward(key);
    } catch {
      await this.memory.refund(key);
    }
  }

  async peek(key: string): Promise<RateLimitState | null> {
    let result: RateLimiterRes | null;
    try {
      result = await this.redis.get(key);
    } catch {
      return this.memory.peek(key);
    }
    if (result === null || result.msBeforeNext <= 0) return null;
    const { admitted: _, ...state } = this.#decision(result, true);
    return state;
  }

  #decision(result: RateLimiterRes, admitted: boolean): RateLimitDecision {
    return {
      admitted,
      limit: this.limit,
      remaining: Math.max(0, this.limit - result.consumedPoints),
      resetSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
    };
  }
}
