import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { expectError } from '../helpers/routes.js';
import { createWidgetKey, postSession, startSession, visitorClient } from '../helpers/widget.js';

/**
 * Anonymous traffic's own rate limits (issue 12, part B): per visitor token subject and per
 * address on visitor requests, per address on session minting, in fixed windows of a minute
 * (docs/adr/0031-rate-limits.md); 429 `rate_limited` with Retry-After and the RateLimit-* fields.
 * API keys' requests are not counted. The limits read `Date.now()`: time is moved by faking Date.
 */

const SHOP = 'https://shop.example';
const START = Date.parse('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number) => vi.setSystemTime(START + offsetMs);
let context: TestContext;
let admin: Api;
let agentId: string;
let publishable: string;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  at(0);
  context = await createTestContext({
    widget: { visitorRequestsPerMinute: 3, visitorRequestsPerMinutePerIp: 5, sessionsPerMinutePerIp: 4 },
  });
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant' })).id;
  publishable = (await createWidgetKey(admin, agentId, [SHOP])).publishable_key;
});
afterAll(async () => {
  await context.close();
  vi.useRealTimers();
});

describe('anonymous rate limits', () => {
  it('limit each visitor, then their address, and never an API key', async () => {
    const first = visitorClient(
      context,
      (await startSession(context, { widgetKey: publishable, origin: SHOP })).token,
      SHOP,
    );
    const second = visitorClient(
      context,
      (await startSession(context, { widgetKey: publishable, origin: SHOP })).token,
      SHOP,
    );
    const path = `/api/v1/chat/${agentId}/threads`;
    const admitted = await first.get(path);
    expect(admitted.status).toBe(200);
    // The tighter of the visitor's 3 and the address's 5.
    expect(rateLimitFields(admitted)).toEqual({ limit: '3', remaining: '2', reset: '60', retryAfter: undefined });
    at(10_000);
    const statuses = [];
    for (let index = 0; index < 2; index += 1) statuses.push((await first.get(path)).status);
    expect(statuses).toEqual([200, 200]);
    const limited = await first.get(path);
    expectError(limited, 429, 'rate_limited');
    // The visitor's window began with its first request, 10 s ago.
    expect(rateLimitFields(limited)).toEqual({ limit: '3', remaining: '0', reset: '50', retryAfter: '50' });
    // The second visitor has a budget of their own, but shares the address's 5: the refused
    // request was given back to the address, so two are left.
    expect([(await second.get(path)).status, (await second.get(path)).status]).toEqual([200, 200]);
    const byAddress = await second.get(path);
    expectError(byAddress, 429, 'rate_limited');
    expect(rateLimitFields(byAddress)).toMatchObject({ limit: '5', remaining: '0', retryAfter: '50' });
    for (let index = 0; index < 10; index += 1) {
      const response = await admin.get(path);
      expect({ status: response.status, limit: response.headers['ratelimit-limit'] }).toEqual({
        status: 200,
        limit: undefined,
      });
    }
    at(59_999);
    expect((await first.get(path)).status).toBe(429);
    at(60_000);
    expect((await first.get(path)).status).toBe(200);
    at(120_000);
  });

  it('limit session minting per address', async () => {
    const statuses = [];
    for (let index = 0; index < 5; index += 1) {
      statuses.push((await postSession(context, { widgetKey: publishable, origin: SHOP })).status);
    }
    // The address's window of the first test's two sessions has ended: 4 a minute.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    at(135_000);
    const refused = await postSession(context, { widgetKey: publishable, origin: SHOP });
    expectError(refused, 429, 'rate_limited');
    expect(rateLimitFields(refused)).toEqual({ limit: '4', remaining: '0', reset: '45', retryAfter: '45' });
  });
});

function rateLimitFields(response: { headers: Record<string, unknown> }) {
  return {
    limit: response.headers['ratelimit-limit'],
    remaining: response.headers['ratelimit-remaining'],
    reset: response.headers['ratelimit-reset'],
    retryAfter: response.headers['retry-after'],
  };
}
