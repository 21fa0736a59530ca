import { describe, expect, it } from 'vitest';
import { MemoryTokenBuckets, tokenBuckets, UNLIMITED } from '../../src/http/rate-limiter.js';

describe('in-memory token buckets', () => {
  it('admit a burst of the limit, then one per refill interval, per key', () => {
    let now = 0;
    const buckets = new MemoryTokenBuckets({ perMinute: 6, clock: { now: () => new Date(now) } });
    const takes = (key: string, count: number) => Array.from({ length: count }, () => buckets.take(key).admitted);
    expect(takes('a', 7)).toEqual([true, true, true, true, true, true, false]);
    expect(buckets.take('a')).toEqual({ admitted: false, retryAfterSeconds: 10 });
    expect(takes('b', 1)).toEqual([true]);
    now += 9_999;
    expect(buckets.take('a').admitted).toBe(false);
    now += 1;
    expect(takes('a', 2)).toEqual([true, false]);
    now += 3_600_000;
    expect(takes('a', 7)).toEqual([true, true, true, true, true, true, false]);
  });

  it('keep at most maxKeys buckets: full ones are dropped first, else a new key waits', () => {
    let now = 0;
    const buckets = new MemoryTokenBuckets({ perMinute: 60, clock: { now: () => new Date(now) }, maxKeys: 2 });
    expect(buckets.take('a').admitted).toBe(true);
    expect(buckets.take('b').admitted).toBe(true);
    expect(buckets.take('c')).toEqual({ admitted: false, retryAfterSeconds: 1 });
    now += 1000;
    expect(buckets.take('c').admitted).toBe(true);
  });

  it('is no limit at 0', () => {
    expect(tokenBuckets(0, { now: () => new Date() })).toBe(UNLIMITED);
  });
});
