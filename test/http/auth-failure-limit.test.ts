import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addressKey, AuthFailureLimiter } from '../../src/http/auth-failure-limiter.js';
import { createRateLimiterStore, MAX_TRACKED_KEYS } from '../../src/http/rate-limiter-store.js';
import { createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import { UUID_PATTERN as UUID } from '../helpers/ids.js';

/**
 * Authentication failures are limited per source address (issue 7, M8). Before, 10,000 requests
 * with bad keys from one address got 10,000 × 401 at ~2,000/s and never a 429. They count in the
 * rate-limit store (rate-limiter-flexible), which reads `Date.now()`: time is moved by faking Date.
 */

const BAD_KEY = 'pk_live_00000000000000000000000000000000.nope';

const START = Date.parse('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number) => vi.setSystemTime(START + offsetMs);
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  at(0);
});
afterAll(() => {
  vi.useRealTimers();
});

async function call(context: TestContext, address: string, key: string | undefined, url = '/api/v1/agents') {
  const response = await context.parley.app.inject({
    method: 'GET',
    url,
    remoteAddress: address,
    headers: key === undefined ? {} : { 'x-api-key': key },
  });
  return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body) as unknown };
}

function expectLimited(response: Awaited<ReturnType<typeof call>>, retryAfter: string): void {
  expect({ status: response.status, retryAfter: response.headers['retry-after'], body: response.body }).toEqual({
    status: 429,
    retryAfter,
    body: {
      detail: 'Too many failed authentication attempts from this address. Retry after the time in Retry-After.',
      code: 'too_many_auth_failures',
      request_id: response.headers['x-request-id'],
    },
  });
  expect(response.headers['x-request-id']).toMatch(UUID);
}

describe('with the default limit (100 a minute)', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestContext();
  });
  afterAll(() => context.close());

  it('the 101st failure from one address in a minute gets 429 with Retry-After', async () => {
    const statuses = [];
    for (let attempt = 0; attempt < 100; attempt++) statuses.push((await call(context, '10.1.0.1', BAD_KEY)).status);
    expect(statuses).toEqual(Array(100).fill(401));
    expectLimited(await call(context, '10.1.0.1', BAD_KEY), '60');
  });
});

describe('with a limit of 5', () => {
  let context: TestContext;
  let organization: TestOrganization;
  beforeAll(async () => {
    context = await createTestContext({ authFailureLimitPerMinute: 5 });
    organization = await context.newOrganization();
  });
  afterAll(() => context.close());

  it('counts bad and missing keys; then every authenticated request from the address is refused until the minute ends', async () => {
    at(1_000_000);
    const address = '10.2.0.1';
    const statuses = [];
    for (const key of [BAD_KEY, undefined, 'malformed', BAD_KEY, BAD_KEY])
      statuses.push((await call(context, address, key)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    expectLimited(await call(context, address, BAD_KEY), '60');
    // A valid key from the limited address waits too: nothing is looked up for it.
    expectLimited(await call(context, address, organization.key), '60');
    // Public routes stay open.
    expect((await call(context, address, undefined, '/healthz')).status).toBe(200);
    at(1_045_500);
    expectLimited(await call(context, address, BAD_KEY), '15');
    at(1_060_000);
    expect((await call(context, address, organization.key)).status).toBe(200);
    expect((await call(context, address, BAD_KEY)).status).toBe(401);
  });

  it('other addresses are not affected, and valid keys and scope refusals are not failures', async () => {
    at(1_120_000);
    for (let attempt = 0; attempt < 5; attempt++) expect((await call(context, '10.3.0.1', BAD_KEY)).status).toBe(401);
    expect((await call(context, '10.3.0.1', BAD_KEY)).status).toBe(429);
    expect((await call(context, '10.3.0.2', organization.key)).status).toBe(200);

    const reader = await organization.keyWith(['read']);
    for (let attempt = 0; attempt < 20; attempt++) {
      expect((await call(context, '10.3.0.3', organization.key)).status).toBe(200);
      const forbidden = await context.parley.app.inject({
        method: 'DELETE',
        url: '/api/v1/chat/clear-all-chats',
        remoteAddress: '10.3.0.3',
        headers: { 'x-api-key': reader },
      });
      expect(forbidden.statusCode).toBe(403);
    }
    expect((await call(context, '10.3.0.3', BAD_KEY)).status).toBe(401);
  });

  it('IPv6 addresses count per /64; IPv4-mapped addresses as IPv4', async () => {
    at(1_240_000);
    const sameBlock = ['2001:db8::1', '2001:db8::2', '2001:db8:0:0:ffff::9', '2001:0db8:0000:0000::a', '2001:db8::b'];
    for (const address of sameBlock) expect((await call(context, address, BAD_KEY)).status).toBe(401);
    expect((await call(context, '2001:db8::c', BAD_KEY)).status).toBe(429);
    expect((await call(context, '2001:db8:0:1::1', BAD_KEY)).status).toBe(401);

    for (let attempt = 0; attempt < 5; attempt++)
      expect((await call(context, '::ffff:10.4.0.1', BAD_KEY)).status).toBe(401);
    expect((await call(context, '10.4.0.1', BAD_KEY)).status).toBe(429);
  });
});

describe('AUTH_FAILURE_LIMIT_PER_MINUTE=0', () => {
  it('turns the limit off', async () => {
    const context = await createTestContext({ authFailureLimitPerMinute: 0 });
    try {
      const statuses = new Set<number>();
      for (let attempt = 0; attempt < 300; attempt++) statuses.add((await call(context, '10.5.0.1', BAD_KEY)).status);
      expect([...statuses]).toEqual([401]);
    } finally {
      await context.close();
    }
  });
});

describe('addressKey', () => {
  it('keys IPv4 as is, IPv6 by /64, zone ids and mapped forms folded', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::FFFF:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:DB8:0:0:1:2:3:4')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('2001:db8:aaaa:bbbb::1')).toBe('2001:db8:aaaa:bbbb::/64');
  });
});

describe('AuthFailureLimiter', () => {
  it('tracks at most MAX_TRACKED_KEYS addresses in memory: a limited address stays limited, a new one is not tracked', async () => {
    const store = createRateLimiterStore({ log: pino({ level: 'silent' }) });
    const limiter = new AuthFailureLimiter(store.limiter('auth-failures', 1));
    for (let index = 0; index < MAX_TRACKED_KEYS; index++)
      await limiter.recordFailure(`10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`);
    expect(await limiter.retryAfterSeconds('10.0.0.0')).toBe(60);
    await limiter.recordFailure('192.0.2.1');
    expect(await limiter.retryAfterSeconds('192.0.2.1')).toBe(0);
  });
});
