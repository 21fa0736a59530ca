import type { RateLimitDecision, RateLimiter, RateLimitState } from './rate-limiter.js';

/** Keys one in-memory limiter tracks at once (a bound on its memory: about 100 B a key). */
export const MAX_TRACKED_KEYS = 100_000;

interface Window {
  /** Requests spent in this window, refused ones included (as in Redis: an INCR per request). */
  spent: number;
  /** When the window ends, in ms since the epoch. */
  endsAt: number;
}

/**
 * Fixed windows per key in this process's memory: a key's window opens at its first request and
 * lasts `windowSeconds`, the same counting as the Redis store, so a process that falls back to
 * memory while Redis is away limits the same way.
 *
 * Bounded by construction. Every window lasts the same time and a key that opens a new window is
 * moved to the end of the map, so the map stays ordered by `endsAt`: ended windows are always at
 * its front and are dropped there, a few per request (amortised O(1), no timers). When
 * `maxKeys` windows are open, a key without one is admitted uncounted for the moment rather than
 * evicting another key's count (which would free a limited client).
 *
 * Time is `Date.now()`, which tests move with fake timers.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #windowMs: number;

  constructor(
    readonly limit: number,
    windowSeconds: number,
    private readonly maxKeys = MAX_TRACKED_KEYS,
  ) {
    this.#windowMs = windowSeconds * 1000;
  }

  consume(key: string): Promise<RateLimitDecision> {
    const now = Date.now();
    this.#dropEnded(now);
    let window = this.#windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      this.#windows.delete(key);
      if (this.#windows.size >= this.maxKeys) {
        return Promise.resolve({
          admitted: true,
          limit: this.limit,
          remaining: this.limit - 1,
          resetSeconds: this.#windowMs / 1000,
        });
      }
      window = { spent: 0, endsAt: now + this.#windowMs };
      this.#windows.set(key, window);
    }
    window.spent += 1;
    return Promise.resolve({ admitted: window.spent <= this.limit, ...this.#state(window, now) });
  }

  refund(key: string): Promise<void> {
    const window = this.#windows.get(key);
    if (window !== undefined && window.endsAt > Date.now() && window.spent > 0) window.spent -= 1;
    return Promise.resolve();
  }

  peek(key: string): Promise<RateLimitState | null> {
    return Promise.resolve(this.peekNow(key));
  }

  peekNow(key: string): RateLimitState | null {
    const now = Date.now();
    const window = this.#windows.get(key);
    return window === undefined || window.endsAt <= now ? null : this.#state(window, now);
  }

  /** Windows open now (ended ones still at the front count until the next request drops them). */
  get trackedKeys(): number {
    return this.#windows.size;
  }

  #state(window: Window, now: number): RateLimitState {
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.spent),
      resetSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)),
    };
  }

  #dropEnded(now: number): void {
    for (const [key, window] of this.#windows) {
      if (window.endsAt > now) return;
      this.#windows.delete(key);
    }
  }
}
