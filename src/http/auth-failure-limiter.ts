import type { RateLimiter } from './rate-limiter.js';

/**
 * Authentication failures per source address, in fixed windows of one minute (a rate limiter of
 * `AUTH_FAILURE_LIMIT_PER_MINUTE` per address, counted where every rate limit counts — memory or
 * Redis, rate-limiter-store.ts): once an address has failed that many times in its window, its
 * requests are refused with 429 until the window ends — before any credential is looked up, so
 * guessing keys costs the server a counter read, not a database query.
 *
 * Invariants: only failures are counted (a valid key never spends); IPv6 addresses count per
 * /64, the block a single host or customer usually gets, so rotating the low bits does not reset
 * the count; in memory, at most MAX_TRACKED_KEYS addresses per window (one beyond it is not
 * limited for the rest of its window rather than evicting one that is).
 */
export class AuthFailureLimiter {
  constructor(private readonly failures: RateLimiter) {}

  /** Seconds until `address` may try again, or 0 when it is under the limit. */
  async retryAfterSeconds(address: string): Promise<number> {
    const state = await this.failures.peek(addressKey(address));
    return state !== null && state.remaining === 0 ? state.resetSeconds : 0;
  }

  /**
   * `retryAfterSeconds` without a promise when the failures are counted in this process (memory);
   * undefined when they are counted elsewhere (Redis) and the answer must be awaited.
   */
  retryAfterSecondsNow(address: string): number | undefined {
    if (this.failures.peekNow === undefined) return undefined;
    const state = this.failures.peekNow(addressKey(address));
    return state !== null && state.remaining === 0 ? state.resetSeconds : 0;
  }

  async recordFailure(address: string): Promise<void> {
    await this.failures.consume(addressKey(address));
  }
}

/** IPv4 as is (also when IPv4-mapped); IPv6 by its /64 prefix. */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const zone = address.indexOf('%');
  const [head = '', tail] = (zone === -1 ? address : address.slice(0, zone)).toLowerCase().split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing =
    tail === undefined ? [] : Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0');
  const groups = [...headGroups, ...missing, ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
