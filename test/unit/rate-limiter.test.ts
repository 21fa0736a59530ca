import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiterStore, MAX_TRACKED_KEYS } from '../../src/http/rate-limiter-store.js';
import { MemoryRateLimiter } from '../../src/http/memory-rate-limiter.js';
import { rateLimitHeaders, spend, UNLIMITED } from '../../src/http/rate-limiter.js';

/**
 * The rate-limit port in memory: fixed windows of one minute per key. The limiter reads
 * `Date.now()` (it takes no clock), so time is moved by faking Date only.
 */

const store = createRateLimiterStore({ log: pino({ level: 'silent' }) });
const START = Date.parse('2026-03-01T10:00:00.000Z');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
});
afterEach(() => {
  vi.useRealTimers();
});

async function consumeTimes(limiter: ReturnType<typeof store.limiter>, key: string, count: number) {
  const admitted = [];
  for (let index = 0; index < count; index++) admitted.push((await limiter.consume(key)).admitted);
  return admitted;
}

describe('a limiter in memory', () => {
  it('admits exactly the limit per key in a window, then refuses until the window ends', async () => {
    const limiter = store.limiter('unit-window', 3);
    expect(await limiter.consume('a')).toEqual({ admitted: true, limit: 3, remaining: 2, resetSeconds: 60 });
    expect(await consumeTimes(limiter, 'a', 2)).toEqual([true, true]);
    vi.setSystemTime(START + 40_500);
    expect(await limiter.consume('a')).toEqual({ admitted: false, limit: 3, remaining: 0, resetSeconds: 20 });
    expect(await consumeTimes(limiter, 'b', 4)).toEqual([true, true, true, false]);
    vi.setSystemTime(START + 59_999);
    expect((await limiter.consume('a')).admitted).toBe(false);
    // The window of `a` began with its first request: it ends one minute later, wholly refilled.
    vi.setSystemTime(START + 60_000);
    expect(await consumeTimes(limiter, 'a', 4)).toEqual([true, true, true, false]);
  });

  it('peeks without spending; an ended window is no window', async () => {
    const limiter = store.limiter('unit-peek', 2);
    expect(await limiter.peek('a')).toBeNull();
    await limiter.consume('a');
    expect(await limiter.peek('a')).toEqual({ limit: 2, remaining: 1, resetSeconds: 60 });
    expect(await limiter.peek('a')).toEqual({ limit: 2, remaining: 1, resetSeconds: 60 });
    vi.setSystemTime(START + 60_000);
    expect(await limiter.peek('a')).toBeNull();
  });

  it('tracks at most MAX_TRACKED_KEYS keys: a counted key stays counted, a new one is admitted uncounted', async () => {
    const limiter = store.limiter('unit-bound', 1);
    for (let index = 0; index < MAX_TRACKED_KEYS; index++) await limiter.consume(`key-${index}`);
    expect((await limiter.consume('key-0')).admitted).toBe(false);
    expect(await consumeTimes(limiter, 'new', 3)).toEqual([true, true, true]);
    expect(await limiter.peek('new')).toBeNull();
  });

  it('drops ended windows as requests come, so a full limiter takes new keys again once windows end', async () => {
    const limiter = new MemoryRateLimiter(1, 60, 3);
    for (const key of ['a', 'b', 'c']) await limiter.consume(key);
    expect(await limiter.consume('d')).toEqual({ admitted: true, limit: 1, remaining: 0, resetSeconds: 60 });
    expect(await limiter.peek('d')).toBeNull();
    expect(limiter.trackedKeys).toBe(3);
    vi.setSystemTime(START + 30_000);
    expect((await limiter.consume('a')).admitted).toBe(false);
    vi.setSystemTime(START + 60_000);
    // a, b and c ended together: the next request drops all three and counts d.
    expect(await limiter.consume('d')).toEqual({ admitted: true, limit: 1, remaining: 0, resetSeconds: 60 });
    expect(limiter.trackedKeys).toBe(1);
    expect((await limiter.consume('d')).admitted).toBe(false);
  });

  it('gives back a refunded request within the window only', async () => {
    const limiter = new MemoryRateLimiter(2, 60);
    await consumeTimes(limiter, 'a', 2);
    await limiter.refund('a');
    expect(await limiter.peek('a')).toEqual({ limit: 2, remaining: 1, resetSeconds: 60 });
    await limiter.refund('never-seen');
    expect(await limiter.peek('never-seen')).toBeNull();
  });

  it('is no limit at 0', () => {
    expect(store.limiter('unit-off', 0)).toBe(UNLIMITED);
  });
});

describe('spend over several budgets', () => {
  it('admits when all admit, with the tightest budget; a refusal gives the others their request back', async () => {
    const perKey = store.limiter('unit-spend-key', 2);
    const perOrganization = store.limiter('unit-spend-organization', 3);
    const budgets = (key: string) => [
      { limiter: perKey, key },
      { limiter: perOrganization, key: 'org' },
    ];
    expect(await spend(budgets('k1'))).toEqual({ admitted: true, limit: 2, remaining: 1, resetSeconds: 60 });
    expect(await spend(budgets('k1'))).toEqual({ admitted: true, limit: 2, remaining: 0, resetSeconds: 60 });
    // Refused by the key: the organisation's request is given back, so another key still has one.
    expect(await spend(budgets('k1'))).toMatchObject({ admitted: false, limit: 2 });
    expect(await perOrganization.peek('org')).toEqual({ limit: 3, remaining: 1, resetSeconds: 60 });
    expect(await spend(budgets('k2'))).toEqual({ admitted: true, limit: 3, remaining: 0, resetSeconds: 60 });
    // Refused by the organisation: the key's request is given back.
    expect(await spend(budgets('k3'))).toMatchObject({ admitted: false, limit: 3 });
    expect(await perKey.peek('k3')).toEqual({ limit: 2, remaining: 2, resetSeconds: 60 });
  });

  it('is nothing to say when every limit is off', async () => {
    expect(await spend([{ limiter: UNLIMITED, key: 'a' }])).toBeNull();
  });

  it('writes the draft-04 fields', () => {
    expect(rateLimitHeaders({ limit: 10, remaining: 3, resetSeconds: 42 })).toEqual({
      'ratelimit-limit': '10',
      'ratelimit-remaining': '3',
      'ratelimit-reset': '42',
    });
  });
});
