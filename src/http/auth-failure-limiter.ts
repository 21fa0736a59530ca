import type { Clock } from '../ids.js';

/**
 * Authentication failures per source address, in fixed windows of one minute: once an address
 * has failed `limitPerMinute` times in the current window, its requests are refused with 429
 * until the window ends — before any credential is looked up, so guessing keys costs the server
 * a map look-up, not a database query.
 *
 * Invariants: a request from an address under the limit costs one `Map.get`; memory is bounded
 * by `MAX_TRACKED_ADDRESSES` per window (an address beyond it is not limited for the rest of the
 * window rather than evicting one that is); IPv6 addresses count per /64, the block a single
 * host or customer usually gets, so rotating the low bits does not reset the count.
 */
export class AuthFailureLimiter {
  #failures = new Map<string, number>();
  #windowEndsAt = 0;

  constructor(private readonly options: { limitPerMinute: number; clock: Clock }) {}

  /** Seconds until `address` may try again, or 0 when it is under the limit. */
  retryAfterSeconds(address: string): number {
    // The common case — no failures anywhere this window — reads neither the clock nor the map.
    if (this.#failures.size === 0) return 0;
    const now = this.#advance();
    const failures = this.#failures.get(addressKey(address)) ?? 0;
    return failures >= this.options.limitPerMinute ? Math.max(1, Math.ceil((this.#windowEndsAt - now) / 1000)) : 0;
  }

  recordFailure(address: string): void {
    this.#advance();
    const key = addressKey(address);
    const failures = this.#failures.get(key);
    if (failures === undefined && this.#failures.size >= MAX_TRACKED_ADDRESSES) return;
    this.#failures.set(key, (failures ?? 0) + 1);
  }

  /** Starts a new window when the current one has ended; returns the time now, in ms. */
  #advance(): number {
    const now = this.options.clock.now().getTime();
    if (now >= this.#windowEndsAt) {
      if (this.#failures.size > 0) this.#failures = new Map();
      this.#windowEndsAt = now + WINDOW_MS;
    }
    return now;
  }
}

const WINDOW_MS = 60_000;
export const MAX_TRACKED_ADDRESSES = 100_000;

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
