import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRateLimiterStore } from '../../src/http/rate-limiter-store.js';
import { spend } from '../../src/http/rate-limiter.js';
import { client, createTestContext, type Api, type TestContext, type TestPeer } from '../helpers/harness.js';
import { freePort } from '../helpers/server-process.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';

/**
 * Rate limits shared through Redis (reliability.md T15): two app instances with one REDIS_URL
 * admit one budget between them, and authentication failures seen by one are refused by the
 * other. Redis unreachable: each process counts in its own memory (fails open to memory, never
 * to no limit), logs it once, and shares again once Redis is back. Each test has its own key
 * prefix so runs never see each other's counters. Redis is the local server unless
 * PARLEY_TEST_REDIS_URL says otherwise.
 */

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const AGENTS = '/api/v1/agents';
const BAD_KEY = 'pk_live_00000000000000000000000000000000.nope';
const uniquePrefix = () => `parley-test:${randomUUID()}`;
/** How long a connection may take to come up or go down on a loaded machine (what is awaited is an event). */
const WAIT_MS = 30_000;
/**
 * A fresh key prefix, and a command timeout long enough that a starved test process never takes
 * a slow answer for Redis being down (the cases below cut the connection instead).
 */
const onLoadedMachine = () => ({ redisKeyPrefix: uniquePrefix(), redisTimeoutMs: WAIT_MS });

async function admittedOf(responses: Promise<{ statusCode: number }>[]): Promise<number> {
  const statuses = (await Promise.all(responses)).map((response) => response.statusCode);
  expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
  return statuses.filter((status) => status === 200).length;
}

describe('two instances sharing Redis', () => {
  let context: TestContext;
  let peer: TestPeer;
  let key: string;
  beforeAll(async () => {
    context = await createTestContext({
      authFailureLimitPerMinute: 4,
      rateLimits: {
        perKeyPerMinute: 60,
        perOrganizationPerMinute: 1000,
        redisUrl: REDIS_URL,
        ...onLoadedMachine(),
      },
    });
    peer = await context.peer();
    key = (await context.newOrganization()).key;
    await connected(context, 2);
  }, 2 * WAIT_MS);
  afterAll(() => context.close());

  it('admit one key’s 60 between them, however 200 concurrent requests are spread', async () => {
    const apps = [context.parley.app, peer.parley.app];
    const requests = Array.from({ length: 200 }, (_, index) =>
      apps[index % 2]!.inject({ method: 'GET', url: AGENTS, headers: { 'x-api-key': key } }),
    );
    const admitted = await admittedOf(requests);
    // T15 allows ±10 %; Redis's atomic increment makes it exact.
    expect(admitted).toBeGreaterThanOrEqual(54);
    expect(admitted).toBeLessThanOrEqual(66);
    expect(admitted).toBe(60);
    const refused = await peer.parley.app.inject({ method: 'GET', url: AGENTS, headers: { 'x-api-key': key } });
    expect({
      status: refused.statusCode,
      code: (JSON.parse(refused.body) as { code: string }).code,
      remaining: refused.headers['ratelimit-remaining'],
      limit: refused.headers['ratelimit-limit'],
    }).toEqual({ status: 429, code: 'rate_limited', remaining: '0', limit: '60' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('share the authentication failures of an address', async () => {
    const call = (app: typeof context.parley.app, apiKey: string) =>
      app.inject({ method: 'GET', url: AGENTS, remoteAddress: '10.9.0.1', headers: { 'x-api-key': apiKey } });
    const statuses = [];
    for (const app of [context.parley.app, peer.parley.app, context.parley.app, peer.parley.app]) {
      statuses.push((await call(app, BAD_KEY)).statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect((await call(context.parley.app, BAD_KEY)).statusCode).toBe(429);
    expect((await call(peer.parley.app, key)).statusCode).toBe(429);
  });
});

describe('the port over Redis', () => {
  it('spends, refunds and peeks as in memory', { timeout: 2 * WAIT_MS }, async () => {
    const said: string[] = [];
    const output = new PassThrough().on('data', (chunk: Buffer) => said.push(chunk.toString()));
    const { redisKeyPrefix: keyPrefix, redisTimeoutMs: timeoutMs } = onLoadedMachine();
    const store = createRateLimiterStore({ redis: { url: REDIS_URL, keyPrefix, timeoutMs }, log: pino(output) });
    try {
      await vi.waitFor(() => expect(said.join('')).toContain('Redis connected'), { timeout: WAIT_MS });
      const perKey = store.limiter('key', 2);
      const perOrganization = store.limiter('organization', 3);
      const budgets = (key: string) => [
        { limiter: perKey, key },
        { limiter: perOrganization, key: 'org' },
      ];
      expect(await perKey.peek('k1')).toBeNull();
      expect((await spend(budgets('k1')))?.admitted).toBe(true);
      expect(await spend(budgets('k1'))).toMatchObject({ admitted: true, limit: 2, remaining: 0 });
      expect(await spend(budgets('k1'))).toMatchObject({ admitted: false, limit: 2 });
      // The key refused the third: the organisation got its request back.
      expect(await perOrganization.peek('org')).toMatchObject({ limit: 3, remaining: 1 });
      expect(await spend(budgets('k2'))).toMatchObject({ admitted: true, limit: 3, remaining: 0 });
      expect(await spend(budgets('k3'))).toMatchObject({ admitted: false, limit: 3 });
      expect(await perKey.peek('k3')).toMatchObject({ limit: 2, remaining: 2 });
    } finally {
      await store.close();
    }
  });
});

describe('Redis unreachable', () => {
  it('at start: each process limits in its own memory, and says so once', { timeout: 2 * WAIT_MS }, async () => {
    const closedPort = await freePort();
    const context = await createTestContext({
      rateLimits: { perKeyPerMinute: 3, redisUrl: `redis://127.0.0.1:${closedPort}`, ...onLoadedMachine() },
    });
    try {
      const api = client(context, (await context.newOrganization()).key);
      const seen = [];
      for (let index = 0; index < 4; index++) seen.push((await api.get(AGENTS)).status);
      expect(seen).toEqual([200, 200, 200, 429]);
      await vi.waitFor(() => expect(unreachableLines(context), redisLines(context)).toHaveLength(1), {
        timeout: WAIT_MS,
      });
    } finally {
      await context.close();
    }
  });

  it(
    'mid-way: counting moves to memory, then back to the shared count when Redis returns',
    { timeout: 4 * WAIT_MS },
    async () => {
      const target = new URL(REDIS_URL);
      const relay = await startTcpRelay({ hostname: target.hostname, port: Number(target.port || 6379) });
      const context = await createTestContext({
        rateLimits: { perKeyPerMinute: 3, redisUrl: relay.url, ...onLoadedMachine() },
      });
      try {
        const api: Api = client(context, (await context.newOrganization()).key);
        await connected(context, 1);
        expect([(await api.get(AGENTS)).status, (await api.get(AGENTS)).status]).toEqual([200, 200]);

        await relay.cut();
        await vi.waitFor(() => expect(unreachableLines(context), redisLines(context)).toHaveLength(1), {
          timeout: WAIT_MS,
        });
        // This process's memory has not seen the 2 counted in Redis: a whole budget, still limited.
        const inMemory = [];
        for (let index = 0; index < 4; index++) inMemory.push((await api.get(AGENTS)).status);
        expect(inMemory).toEqual([200, 200, 200, 429]);

        await relay.restore();
        await vi.waitFor(() => expect(lines(context, 'Redis reachable again'), redisLines(context)).toHaveLength(1), {
          timeout: WAIT_MS,
        });
        // Shared again: Redis still holds the 2 of this window, so one is left.
        expect([(await api.get(AGENTS)).status, (await api.get(AGENTS)).status]).toEqual([200, 429]);
      } finally {
        await context.close();
        await relay.cut();
      }
    },
  );
});

function lines(context: TestContext, text: string): string[] {
  return context.logs.filter((line) => line.includes(text));
}

/** What the apps said about Redis, for a failure's message. */
function redisLines(context: TestContext): string {
  return context.logs.filter((line) => line.includes('Redis')).join('\n');
}

function unreachableLines(context: TestContext): string[] {
  return lines(context, 'Redis unreachable: rate limits count in this process');
}

/** Until its connection is up an app counts in memory: waits for `apps` of them to say they are connected. */
async function connected(context: TestContext, apps: number): Promise<void> {
  await vi.waitFor(
    () => expect(lines(context, 'Redis connected: rate limits are shared'), redisLines(context)).toHaveLength(apps),
    {
      timeout: WAIT_MS,
    },
  );
}
