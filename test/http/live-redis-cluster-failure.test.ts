import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadKey } from '../../src/runtime/redis-live-connections.js';
import { phasedModel } from '../fixtures/gated-model.js';
import { growingRegistry } from '../fixtures/scripted-model.js';
import { createThreadRef, type TestContext, type TestPeer } from '../helpers/harness.js';
import { WAIT_MS, expectOrderedWithoutGaps, liveOn, startLivePair } from '../helpers/live-redis.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { SseConnection, isDelta, storedExecution, threadPath, type SseEvent } from '../helpers/sse-client.js';

/**
 * The master that holds a thread's slot killed (SIGKILL) in the middle of a reply that process A
 * streams, with a follower of that thread on process B. Without replicas the slot is down until
 * the node comes back: no Redis command about the thread can succeed meanwhile. The follower
 * must be told `degraded`, get the rest of the run from the store (the whole text in
 * `message-end`, no delta twice, `run-end`), and be told `live` once the node is back; a new run
 * then streams live across the two apps again.
 */

const models = growingRegistry('live-redis-cluster-failure');
let cluster: RedisCluster;
let context: TestContext;
let peer: TestPeer;
let baseA: string;
let baseB: string;
const prefix = `parley-test:${randomUUID()}`;
beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs: 2000 });
  ({ context, peer, baseA, baseB } = await startLivePair(cluster.url, prefix, { models: models.registry }));
}, 3 * WAIT_MS);
afterAll(async () => {
  await context?.close();
  await cluster?.stop();
});

const deltaOf = (text: string) => (event: SseEvent) => event.event === 'text-delta' && event.data.delta === text;
const status = (state: string) => (event: SseEvent) => event.event === 'live-status' && event.data.state === state;
const runEnd = (event: SseEvent) => event.event === 'run-end';
const texts = (events: SseEvent[]) => events.filter(isDelta).map((event) => event.data.delta as string);
const statuses = (events: SseEvent[]) =>
  events.filter((event) => event.event === 'live-status').map((event) => event.data.state as string);

describe('the Redis Cluster master of a thread’s slot killed mid-reply', () => {
  it(
    'degrades the follower on the other process, ends the run from the store, and is live again once the node is back',
    { timeout: 8 * WAIT_MS },
    async () => {
      const model = phasedModel(models.freshId('phased'), [
        [['One ', 'two '], ['three ', 'four '], ['five.']],
        [['Six '], ['seven.']],
      ]);
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

      const master = await cluster.masterOf(threadKey(prefix, thread.threadId, 'state'));
      await cluster.kill(master);
      // DEBUG await follower.readUntil(status("degraded"), WAIT_MS);
      // A streams the rest with the slot down: its deltas reach nobody, the run ends in the store.
      model.open();
      model.open();
      const onA = await asker.readUntil(runEnd, WAIT_MS);
      const firstTail = await follower.readUntil(runEnd, WAIT_MS);
      expect(firstTail.at(-1)!.id).toBe(onA.at(-1)!.id);

      await cluster.restart(master);
      await follower.readUntil(status('live'), WAIT_MS);
      await liveOn(context.parley);
      await liveOn(peer.parley);
      // A second run on A: its first delta (never stored) reaches B's follower live.
      const second = await SseConnection.open(`${baseA}${threadPath(thread)}/messages/stream`, {
        key: thread.key,
        body: { role: 'user', content: 'Go on' },
      });
      await second.readUntil(deltaOf('Six '), WAIT_MS);
      await follower.readUntil(deltaOf('Six '), WAIT_MS);
      model.open();
      const secondEnd = (await second.readUntil(runEnd, WAIT_MS)).at(-1)!;
      const lastTail = await follower.readUntil(runEnd, WAIT_MS);
      follower.abort();
      second.abort();

      const received = follower.received;
      expect(statuses(received)).toEqual(['degraded', 'live']);
      expect(texts(received)).toEqual(['One ', 'two ', 'Six ', 'seven.']);
      const ends = received.filter((event) => event.event === 'message-end' && event.data.message.role === 'assistant');
      expect(ends.map((event) => event.data.message.content)).toEqual(['One two three four five.', 'Six seven.']);
      expect(lastTail.at(-1)!.id).toBe(secondEnd.id);
      expect(lastTail.at(-1)!.data).toMatchObject({ status: 'completed' });
      expectOrderedWithoutGaps(received.filter((event) => event.event !== 'live-status'));
      expect((await storedExecution(thread, onA.at(-1)!.data.run_id as string)).status).toBe('completed');
    },
  );
});
