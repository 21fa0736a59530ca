import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLiveBus } from '../../src/runtime/redis-live-bus.js';
import type { ParleyApp } from '../../src/app.js';
import { phasedModel } from '../fixtures/gated-model.js';
import { growingRegistry } from '../fixtures/scripted-model.js';
import { createThreadRef, type TestContext } from '../helpers/harness.js';
import { WAIT_MS, expectOrderedWithoutGaps, liveOn, startLivePair } from '../helpers/live-redis.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  SseConnection,
  isDelta,
  pollUntil,
  storedExecution,
  threadPath,
  type SseEvent,
} from '../helpers/sse-client.js';

/**
 * Redis stopped (SIGKILL, nothing kept) and started again in the middle of a reply: every
 * process loses it, the one running the run (A) and the one a follower is on (B). The text
 * deltas A records while Redis is away reach nobody and are not in the (new, empty) replay
 * stream; the end state is exact all the same: B's follower is told `degraded` once and `live`
 * once, gets every delta A published while both could reach Redis, no delta twice, and the
 * stored `message-end` with the whole text.
 */

const models = growingRegistry('live-redis-restart');
let redis: RedisServer;
let context: TestContext;
let baseA: string;
let baseB: string;
beforeAll(async () => {
  redis = await startRedis();
  const prefix = `parley-test:${randomUUID()}`;
  ({ context, baseA, baseB } = await startLivePair(redis.url, prefix, {
    models: models.registry,
  }));
}, 2 * WAIT_MS);
afterAll(async () => {
  await context?.close();
  await redis?.stop();
});

const deltaOf = (text: string) => (event: SseEvent) => event.event === 'text-delta' && event.data.delta === text;
const status = (state: string) => (event: SseEvent) => event.event === 'live-status' && event.data.state === state;
const runEnd = (event: SseEvent) => event.event === 'run-end';
const texts = (events: SseEvent[]) => events.filter(isDelta).map((event) => event.data.delta as string);

/** Live again and publishing: what A records from now on reaches B's subscriber. */
async function fullyBack(parley: ParleyApp): Promise<void> {
  await liveOn(parley);
  const bus = parley.bus as RedisLiveBus;
  expect(bus).toBeInstanceOf(RedisLiveBus);
  await pollUntil(() => (bus.publishing ? true : undefined), { timeoutMs: WAIT_MS, what: 'publishing again' });
}

describe('Redis stopped and started again mid-reply', () => {
  it(
    'ends the follower on another process with the whole stored message and no duplicate',
    { timeout: 5 * WAIT_MS },
    async () => {
      const model = phasedModel(models.freshId('phased'), [[['One ', 'two '], ['three ', 'four '], ['five.']]]);
      models.add(model.model);
      const thread = await createThreadRef(context, { base: baseA, configuration: { model: model.id, tools: [] } });
      const asker = await SseConnection.open(`${baseA}${threadPath(thread)}/messages/stream`, {
        key: thread.key,
        body: { role: 'user', content: 'Count to five' },
      });
      await asker.readUntil(deltaOf('two '));
      const follower = await SseConnection.open(`${baseB}${threadPath(thread)}/stream`, {
        key: thread.key,
        headers: { 'last-event-id': '0' },
      });
      await follower.readUntil(deltaOf('two '));

      await redis.stop();
      await follower.readUntil(status('degraded'));
      // A records `three four` with Redis away: lost to every follower's live path and to replay.
      model.open();
      await model.reached(1);
      await redis.start();
      await follower.readUntil(status('live'), WAIT_MS);
      await fullyBack(context.parley);
      model.open();
      const tail = await follower.readUntil(runEnd, WAIT_MS);
      follower.abort();
      const onA = await asker.readUntil(runEnd, WAIT_MS);

      const received = follower.received;
      expect(received.filter((event) => event.event === 'live-status').map((event) => event.data.state)).toEqual([
        'degraded',
        'live',
      ]);
      expect(texts(received)).toEqual(['One ', 'two ', 'five.']);
      const end = received.filter((event) => event.event === 'message-end').at(-1)!;
      expect(end.data.message.content).toBe('One two three four five.');
      expect(tail.at(-1)!.data).toMatchObject({ status: 'completed' });
      expect(onA.at(-1)!.id).toBe(tail.at(-1)!.id);
      expectOrderedWithoutGaps(received.filter((event) => event.event !== 'live-status'));
      expect((await storedExecution(thread, tail.at(-1)!.data.run_id as string)).status).toBe('completed');
    },
  );
});
