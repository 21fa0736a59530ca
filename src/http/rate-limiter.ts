import { AppError } from '../errors.js';
import type { Clock } from '../ids.js';

/**
 * A rate limit on some traffic (anonymous widget visitors, session minting), per key: the port a
 * store shared by processes (Redis) can fill later. `take` spends one request for `key` and says
 * whether it is admitted, or in how many seconds to retry.
 */
export interface RateLimiter {
  take(key: string): { admitted: true } | { admitted: false; retryAfterSeconds: number };
}

/** A limiter that admits everything: a limit configured as 0. */
export const UNLIMITED: RateLimiter = { take: () => ({ admitted: true }) };

/**
 * Token buckets in this process's memory: each key has a bucket of `perMinute` tokens, refilled
 * continuously at `perMinute` per minute; a request takes one, and with none left it is refused
 * until the next one is due. So a burst of `perMinute` is admitted at once, and a steady client
 * gets `perMinute` a minute. With N processes behind a balancer a client gets up to N times the
 * limit (docs/widget.md) — the reason this is a port.
 *
 * Invariants: memory is bounded by `maxKeys` buckets; when full, buckets that have refilled
 * (which admit exactly as a fresh one would) are dropped first, and if none has, a new key is
 * refused rather than another key's bucket being reset.
 */
export class MemoryTokenBuckets implements RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();
  readonly #refillPerMs: number;

  constructor(private readonly options: { perMinute: number; clock: Clock; maxKeys?: number }) {
    this.#refillPerMs = options.perMinute / 60_000;
  }

  take(key: string): { admitted: true } | { admitted: false; retryAfterSeconds: number } {
    const now = this.options.clock.now().getTime();
    const capacity = this.options.perMinute;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= (this.options.maxKeys ?? DEFAULT_MAX_KEYS) && !this.#sweep(now)) {
        return { admitted: false, retryAfterSeconds: 1 };
      }
      bucket = { tokens: capacity, updatedAt: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updatedAt) * this.#refillPerMs);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { admitted: true };
    }
    return {
      admitted: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#refillPerMs / 1000)),
    };
  }

  /** Drops the buckets that are full again; true when any was dropped. */
  #sweep(now: number): boolean {
    const before = this.#buckets.size;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.#refillPerMs >= this.options.perMinute) {
        this.#buckets.delete(key);
      }
    }
    return this.#buckets.size < before;
  }
}

const DEFAULT_MAX_KEYS = 100_000;

/** A limiter for `perMinute` requests per key a minute; 0 means no limit. */
export function tokenBuckets(perMinute: number, clock: Clock): RateLimiter {
  return perMinute > 0 ? new MemoryTokenBuckets({ perMinute, clock }) : UNLIMITED;
}

/** Spends one request of `key`; a refused one is 429 `rate_limited` with `Retry-After`. */
export function admit(limiter: RateLimiter, key: string): void {
  const taken = limiter.take(key);
  if (!taken.admitted) {
    throw new AppError('rate_limited', { headers: { 'retry-after': String(taken.retryAfterSeconds) } });
  }
}
