import type { FastifyBaseLogger } from 'fastify';
import { createRedisClient, type RedisClient } from '../redis-client.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { UNLIMITED, type RateLimitDecision, type RateLimiter, type RateLimitState } from './rate-limiter.js';

/**
 * Where every rate limit counts (docs/adr/0031-rate-limits.md): rate-limiter-flexible's
 * fixed windows, in this process's memory or — with `REDIS_URL` — in Redis, where an atomic
 * increment per request makes N processes share one budget. The only module that imports the
 * library or opens a Redis connection for limits.
 *
 * When Redis cannot be reached the limits fail open to memory: each process goes on counting in
 * its own memory (the library's insurance limiter), so a client gets at most N times its budget
 * behind N processes until Redis is back — never unlimited, and never an error for the caller.
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
/** Keys one in-memory limiter tracks per window (see MemoryRateLimiter). */
export const MAX_TRACKED_KEYS = 100_000;

export function createRateLimiterStore(input: {
  /** Where the counters are shared; in memory when absent. */
  redis?: RedisSettings | undefined;
  log: FastifyBaseLogger;
}): RateLimiterStore {
  const settings = input.redis;
  if (settings === undefined) {
    return {
      limiter: (name, perMinute) => (perMinute > 0 ? new MemoryRateLimiter(name, perMinute) : UNLIMITED),
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
        // Not connected: straight to the insurance rather than waiting for a reconnection.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points: perMinute, duration: WINDOW_SECONDS }),
      });
      return new FlexibleRateLimiter(limiter, perMinute);
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

/** The port over one of the library's limiters. */
class FlexibleRateLimiter implements RateLimiter {
  constructor(
    protected readonly limiter: RateLimiterAbstract,
    readonly limit: number,
  ) {}

  async consume(key: string): Promise<RateLimitDecision> {
    try {
      return this.#decision(await this.limiter.consume(key), true);
    } catch (rejection) {
      // The library rejects with its result when the budget is spent, and with an Error otherwise.
      if (rejection instanceof RateLimiterRes) return this.#decision(rejection, false);
      throw rejection;
    }
  }

  async refund(key: string): Promise<void> {
    await this.limiter.reward(key);
  }

  async peek(key: string): Promise<RateLimitState | null> {
    const result = await this.limiter.get(key);
    // Memory keeps an ended window until its timer removes it: ended is the same as none.
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

/**
 * In memory, with a bound: at most MAX_TRACKED_KEYS keys per limiter, each dropped by its own
 * timer when its window ends. When full, a new key is admitted without being counted for the
 * rest of that window rather than resetting another key's count (which would free a limited
 * client). The count is read from the library's storage map — a private field of
 * rate-limiter-flexible 11.4.0 (pinned); the constructor throws if a new version moves it, so an
 * upgrade cannot silently drop the bound.
 */
class MemoryRateLimiter extends FlexibleRateLimiter {
  readonly #keys: Map<string, unknown>;

  constructor(name: string, perMinute: number) {
    super(new RateLimiterMemory({ keyPrefix: name, points: perMinute, duration: WINDOW_SECONDS }), perMinute);
    const storage = (this.limiter as unknown as { _memoryStorage?: { _storage?: unknown } })._memoryStorage?._storage;
    if (!(storage instanceof Map))
      throw new Error('rate-limiter-flexible no longer keeps its memory counters in a Map');
    this.#keys = storage as Map<string, unknown>;
  }

  override async consume(key: string): Promise<RateLimitDecision> {
    if (this.#keys.size >= MAX_TRACKED_KEYS && !this.#keys.has(this.limiter.getKey(key))) {
      return { admitted: true, limit: this.limit, remaining: this.limit - 1, resetSeconds: WINDOW_SECONDS };
    }
    return super.consume(key);
  }
}
