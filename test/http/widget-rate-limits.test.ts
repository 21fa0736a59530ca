import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { expectError } from '../helpers/routes.js';
import { createWidgetKey, postSession, startSession, visitorClient } from '../helpers/widget.js';

/**
 * Anonymous traffic's own rate limits (issue 12, part B): per visitor token subject and per
 * address on visitor requests, per address on session minting; 429 `rate_limited` with
 * Retry-After. API keys' requests are not counted.
 */

const SHOP = 'https://shop.example';
let now = Date.parse('2026-03-01T10:00:00.000Z');
const clock = { now: () => new Date(now) };
let context: TestContext;
let admin: Api;
let agentId: string;
let publishable: string;

beforeAll(async () => {
  context = await createTestContext({
    clock,
    widget: { visitorRequestsPerMinute: 3, visitorRequestsPerMinutePerIp: 5, sessionsPerMinutePerIp: 4 },
  });
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant' })).id;
  publishable = (await createWidgetKey(admin, agentId, [SHOP])).publishable_key;
});
afterAll(() => context.close());

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
    const statuses = [];
    for (let index = 0; index < 3; index += 1) statuses.push((await first.get(path)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await first.get(path);
    expectError(limited, 429, 'rate_limited');
    // 3 a minute: the next one is due 20 s after the bucket emptied.
    expect(limited.headers['retry-after']).toBe('20');
    // The second visitor has a bucket of their own, but shares the address's 5: two are left.
    expect([(await second.get(path)).status, (await second.get(path)).status]).toEqual([200, 200]);
    const byAddress = await second.get(path);
    expectError(byAddress, 429, 'rate_limited');
    for (let index = 0; index < 10; index += 1) expect((await admin.get(path)).status).toBe(200);
    now += 20_000;
    expect((await first.get(path)).status).toBe(200);
    now += 60_000;
  });

  it('limit session minting per address', async () => {
    const statuses = [];
    for (let index = 0; index < 5; index += 1) {
      statuses.push((await postSession(context, { widgetKey: publishable, origin: SHOP })).status);
    }
    // The address's bucket has refilled since the first test's two sessions: 4 a minute.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await postSession(context, { widgetKey: publishable, origin: SHOP });
    expectError(refused, 429, 'rate_limited');
    expect(refused.headers['retry-after']).toBe('15');
  });
});
