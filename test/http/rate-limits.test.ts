import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { client, createTestContext, type Api, type Response, type TestContext } from '../helpers/harness.js';
import { expectError } from '../helpers/routes.js';
import { createWidgetKey, startSession, visitorClient } from '../helpers/widget.js';

/**
 * Request rate limits per API key and per organisation (reliability.md T15; docs/security.md,
 * "Rate limits"), in memory: exactly the budget is admitted in a window, then 429 `rate_limited`
 * with Retry-After; every limited response carries RateLimit-Limit/-Remaining/-Reset of the
 * tighter budget. The counters read `Date.now()`: time is moved by faking Date.
 */

const START = Date.parse('2026-03-01T10:00:00.000Z');
const at = (offsetMs: number) => vi.setSystemTime(START + offsetMs);
const AGENTS = '/api/v1/agents';

function fields(response: Response) {
  return {
    status: response.status,
    limit: response.headers['ratelimit-limit'],
    remaining: response.headers['ratelimit-remaining'],
    reset: response.headers['ratelimit-reset'],
    retryAfter: response.headers['retry-after'],
  };
}

async function statuses(api: Api, count: number, url = AGENTS): Promise<number[]> {
  const seen = [];
  for (let index = 0; index < count; index++) seen.push((await api.get(url)).status);
  return seen;
}

describe('5 a minute per key, 8 per organisation', () => {
  let context: TestContext;
  let first: Api;
  let second: Api;
  let other: Api;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    at(0);
    context = await createTestContext({ rateLimits: { perKeyPerMinute: 5, perOrganizationPerMinute: 8 } });
    const organization = await context.newOrganization();
    first = client(context, organization.key);
    second = client(context, await organization.keyWith(['read', 'write', 'admin']));
    other = client(context, (await context.newOrganization()).key);
  });
  afterAll(async () => {
    await context.close();
    vi.useRealTimers();
  });

  it('admits exactly 5 requests of one key, each with the headers of the tighter budget, then 429', async () => {
    const admitted = [];
    for (let index = 0; index < 5; index++) admitted.push(fields(await first.get(AGENTS)));
    expect(admitted).toEqual(
      [4, 3, 2, 1, 0].map((remaining) => ({
        status: 200,
        limit: '5',
        remaining: String(remaining),
        reset: '60',
        retryAfter: undefined,
      })),
    );
    at(12_000);
    const refused = await first.get(AGENTS);
    expectError(refused, 429, 'rate_limited');
    expect(refused.body).toMatchObject({ detail: 'Too many requests. Retry after the time in Retry-After.' });
    expect(fields(refused)).toEqual({ status: 429, limit: '5', remaining: '0', reset: '48', retryAfter: '48' });
    // Whatever the route: the budget is the key's, not the path's.
    expectError(await first.post(AGENTS, { name: 'x', configuration: {} }), 429, 'rate_limited');
  });

  it('shares the organisation budget between its keys; refusals spend none of it', async () => {
    // The first key spent 5 of the organisation's 8 (its refused requests were given back).
    const admitted = fields(await second.get(AGENTS));
    expect(admitted).toEqual({ status: 200, limit: '8', remaining: '2', reset: '48', retryAfter: undefined });
    expect(await statuses(second, 3)).toEqual([200, 200, 429]);
    const refused = await second.get(AGENTS);
    expect(fields(refused)).toEqual({ status: 429, limit: '8', remaining: '0', reset: '48', retryAfter: '48' });
  });

  it('leaves another organisation, public routes and failed authentications alone', async () => {
    expect(fields(await other.get(AGENTS))).toEqual({
      status: 200,
      limit: '5',
      remaining: '4',
      reset: '60',
      retryAfter: undefined,
    });
    const health = await context.parley.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-api-key': first.key },
    });
    expect({ status: health.statusCode, limit: health.headers['ratelimit-limit'] }).toEqual({
      status: 200,
      limit: undefined,
    });
    const unauthenticated = await context.parley.app.inject({ method: 'GET', url: AGENTS });
    expect({ status: unauthenticated.statusCode, limit: unauthenticated.headers['ratelimit-limit'] }).toEqual({
      status: 401,
      limit: undefined,
    });
  });

  it('refills when the window ends, one minute after its first request', async () => {
    at(59_999);
    expect(await statuses(first, 1)).toEqual([429]);
    at(60_000);
    expect(fields(await first.get(AGENTS))).toMatchObject({ status: 200, limit: '5', remaining: '4', reset: '60' });
    expect(await statuses(first, 5)).toEqual([200, 200, 200, 200, 429]);
  });

  it('does not count widget visitors against the organisation', async () => {
    at(200_000);
    const organization = await context.newOrganization();
    const admin = client(context, organization.key);
    const agentId = (await admin.createAgent()).id;
    const { publishable_key: widgetKey } = await createWidgetKey(admin, agentId, ['https://shop.example']);
    const token = (await startSession(context, { widgetKey, origin: 'https://shop.example' })).token;
    const visitor = visitorClient(context, token, 'https://shop.example');
    const path = `/api/v1/chat/${agentId}/threads`;
    // Ten visitor requests (their own limit is 60) spend none of the organisation's 8…
    for (let index = 0; index < 10; index++) expect((await visitor.get(path)).status).toBe(200);
    // …which the admin key's 2 and another key's 5 leave 1 of.
    const another = client(context, await organization.keyWith(['read']));
    expect(await statuses(another, 5, path)).toEqual([200, 200, 200, 200, 200]);
    const third = client(context, await organization.keyWith(['read']));
    expect(fields(await third.get(path))).toMatchObject({ status: 200, limit: '8', remaining: '0' });
    expectError(await third.get(path), 429, 'rate_limited');
  });
});

describe('0 turns a limit off', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestContext({ rateLimits: { perKeyPerMinute: 0, perOrganizationPerMinute: 3 } });
  });
  afterAll(() => context.close());

  it('with the key limit off only the organisation counts; with both off, nothing does', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    expect(fields(await api.get(AGENTS))).toMatchObject({ status: 200, limit: '3', remaining: '2' });
    expect(await statuses(api, 3)).toEqual([200, 200, 429]);

    const unlimited = await createTestContext({ rateLimits: { perKeyPerMinute: 0, perOrganizationPerMinute: 0 } });
    try {
      const free = client(unlimited, (await unlimited.newOrganization()).key);
      const seen = new Set<string>();
      for (let index = 0; index < 50; index++) {
        const response = await free.get(AGENTS);
        seen.add(`${response.status} ${String(response.headers['ratelimit-limit'])}`);
      }
      expect([...seen]).toEqual(['200 undefined']);
    } finally {
      await unlimited.close();
    }
  });
});

describe('configuration', () => {
  it('is on by default: 1000 a minute per key, 5000 per organisation, counted in memory', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      perKeyPerMinute: 1000,
      perOrganizationPerMinute: 5000,
      redisUrl: undefined,
      redisKeyPrefix: 'parley:rate',
      redisTimeoutMs: 500,
    });
    expect(
      loadConfig({ RATE_LIMIT_PER_KEY: '0', RATE_LIMIT_PER_ORG: '20', REDIS_URL: 'redis://127.0.0.1:6379' }).rateLimits,
    ).toMatchObject({ perKeyPerMinute: 0, perOrganizationPerMinute: 20, redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('names the bad variable, and never repeats a Redis URL', () => {
    expect(() => loadConfig({ RATE_LIMIT_PER_KEY: 'many' })).toThrow('RATE_LIMIT_PER_KEY must be a whole number');
    expect(() => loadConfig({ RATE_LIMIT_PER_ORG: '-1' })).toThrow('RATE_LIMIT_PER_ORG');
    expect(() => loadConfig({ REDIS_URL: 'http://user:secret@cache' })).toThrow(
      'Invalid configuration: REDIS_URL must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL',
    );
  });
});
