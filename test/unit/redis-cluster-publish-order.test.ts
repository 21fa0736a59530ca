import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisDeltaBuffer } from '../../src/runtime/redis-delta-buffer.js';
import { RedisLiveBus } from '../../src/runtime/redis-live-bus.js';
import { RedisLiveConnections } from '../../src/runtime/redis-live-connections.js';
import type { LiveEvent } from '../../src/runtime/live-bus.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';

/**
 * On a Redis Cluster a thread's events must reach a follower in the order they were published,
 * and only after the delta they carry is in the replay stream. A bare PUBLISH has no key, so a
 * cluster client sends each one to any node, and the cluster bus can deliver two of them in either
 * order; the live layer publishes from scripts keyed by the thread's state hash, which run on the
 * node that owns the thread's slot, where its replay stream is written too
 * (docs/adr/0032-redis-live-layer.md, amendments of 2026-12-03).
 */

const EVENTS = 400;
const log = pino({ level: 'silent' });
let cluster: RedisCluster;
const opened: RedisLiveConnections[] = [];

function connect(prefix: string): RedisLiveConnections {
  const connections = new RedisLiveConnections({ url: cluster.url, keyPrefix: prefix, timeoutMs: 2_000 }, log);
  opened.push(connections);
  return connections;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 120_000);
afterAll(async () => {
  await Promise.all(opened.map((connections) => connections.close()));
  await cluster?.stop();
});

it('delivers a thread’s deltas and durable events in publish order, each already in the replay stream', async () => {
  const prefix = `parley-test:${randomUUID()}`;
  const threadId = randomUUID();
  const publisherRedis = connect(prefix);
  const followerRedis = connect(prefix);
  const publisher = new RedisLiveBus({ redis: publisherRedis, keyPrefix: prefix });
  const deltas = new RedisDeltaBuffer({ redis: publisherRedis, keyPrefix: prefix, maxLength: 10_000, ttlSeconds: 60 });
  const follower = new RedisLiveBus({ redis: followerRedis, keyPrefix: prefix });
  const replay = new RedisDeltaBuffer({ redis: followerRedis, keyPrefix: prefix, maxLength: 10_000, ttlSeconds: 60 });
  expect(await publisherRedis.whenLive(30_000)).toBe(true);
  expect(await followerRedis.whenLive(30_000)).toBe(true);

  const received: LiveEvent[] = [];
  const inReplay: boolean[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  follower.subscribe(threadId, (event) => {
    received.push(event);
    if (event.type === 'text-delta') {
      const before = { seq: event.id.seq, delta: event.id.delta - 1 };
      void replay.after(threadId, before).then((found) => {
        inReplay.push(found.some((delta) => delta.id.delta === event.id.delta));
        if (received.length === EVENTS) done();
      });
    } else if (received.length === EVENTS) done();
  });
  await follower.subscribed(threadId);

  // Every tenth event is durable (it advances the sequence) and published in a turn of its own,
  // as a run's commits are; the deltas before it are published in one turn. Redis numbers the
  // deltas after the latest durable sequence: 0.1–0.9, 2.0, 2.1–2.9, 3.0, …
  const published: string[] = [];
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  let seq = 0;
  let delta = 0;
  for (let index = 1; index <= EVENTS; index++) {
    if (index % 10 === 0) {
      await nextTurn();
      seq = index / 10 + 1;
      delta = 0;
      const data = { message_id: `m${seq}`, role: 'assistant', run_id: null };
      deltas.publishDurable(publisher, threadId, { type: 'message-start', data, id: { seq, delta: 0 } });
      published.push(`${seq}.0`);
      await nextTurn();
    } else {
      const data = { message_id: 'm', run_id: 'r', step: 1, delta: `${index} ` };
      deltas.publishTransient(publisher, threadId, { type: 'text-delta', data });
      delta += 1;
      published.push(`${seq}.${delta}`);
    }
  }
  await all;
  expect(received.map((event) => `${event.id.seq}.${event.id.delta}`)).toEqual(published);
  expect(inReplay.filter((found) => !found)).toEqual([]);
}, 120_000);
