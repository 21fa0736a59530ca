import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatedModel } from '../fixtures/gated-model.js';
import { growingRegistry } from '../fixtures/scripted-model.js';
import { createTestContext, createThreadRef, type TestContext, type TestPeer } from '../helpers/harness.js';
import { SseConnection, httpJson, isDelta, storedExecution, threadPath, type SseEvent } from '../helpers/sse-client.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { REDIS_URL, WAIT_MS, expectOrderedWithoutGaps, liveConfig, liveOn } from '../helpers/live-redis.js';

/**
 * Redis going away under the live layer (docs/streaming.md, "Many processes"): process D reaches
 * Redis through a relay the test cuts, process A directly. D's followers are told
 * `live-status: degraded` and go on with stored events (read every LIVE_DEGRADED_POLL_MS); no
 * request waits on Redis; once it is back they are told `live` and get live events again.
 */

const models = growingRegistry('live-redis-down');
let relay: TcpRelay;
let context: TestContext;
let peer: TestPeer;
let baseD: string;
let baseA: string;
beforeAll(async () => {
  const target = new URL(REDIS_URL);
  relay = await startTcpRelay({ hostname: target.hostname, port: Number(target.port || 6379) });
  const prefix = `parley-test:${randomUUID()}`;
  context = await createTestContext({
    models: models.registry,
    runtime: { sseKeepAliveMs: 200 },
    live: liveConfig(relay.url, prefix),
  });
  peer = await context.peer({ live: liveConfig(REDIS_URL, prefix) });
  baseD = await context.listen();
  baseA = await peer.listen();
  await liveOn(context.parley);
  await liveOn(peer.parley);
}, 2 * WAIT_MS);
afterAll(async () => {
  await context?.close();
  await relay?.cut();
});

const deltaOf = (text: string) => (event: SseEvent) => event.event === 'text-delta' && event.data.delta === text;
const runEnd = (event: SseEvent) => event.event === 'run-end';
const status = (state: string) => (event: SseEvent) => event.event === 'live-status' && event.data.state === state;

describe('Redis cut mid-run, then back', () => {
  it(
    'degrades a follower to stored events, answers every request, then goes live again',
    { timeout: 4 * WAIT_MS },
    async () => {
      const model = gatedModel(models.freshId('gated'), ['One ', 'two '], ['three ', 'four.']);
      models.add(model.model);
      const thread = await createThreadRef(context, { base: baseA, configuration: { model: model.id, tools: [] } });
      const asker = await SseConnection.open(`${baseA}${threadPath(thread)}/messages/stream`, {
        key: thread.key,
        body: { role: 'user', content: 'Count' },
      });
      const runId = (await asker.readUntil(deltaOf('two '))).find((event) => event.event === 'run-start')!.data.run_id;
      const follower = await SseConnection.open(`${baseD}${threadPath(thread)}/stream`, {
        key: thread.key,
        headers: { 'last-event-id': '0' },
      });
      await follower.readUntil(deltaOf('two '));

      await relay.cut();
      expect((await follower.readUntil(status('degraded'))).at(-1)).toMatchObject({
        id: undefined,
        data: { type: 'live-status', state: 'degraded' },
      });
      // Nothing waits on Redis: a new follower is told at once, a cancel is answered 503.
      const late = await SseConnection.open(`${baseD}${threadPath(thread)}/stream`, { key: thread.key });
      expect((await late.next())?.data).toEqual({ type: 'live-status', state: 'degraded' });
      late.abort();
      const cancel = await httpJson(baseD, thread.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`);
      expect({ status: cancel.status, code: cancel.body.code }).toEqual({ status: 503, code: 'run_unreachable' });

      // The run ends on A meanwhile: D's follower gets its stored end (its deltas were live only).
      model.open();
      const degraded = await follower.readUntil(runEnd);
      expect(degraded.filter(isDelta)).toEqual([]);
      expect(degraded.at(-1)!.data).toMatchObject({ run_id: runId, status: 'completed' });
      expect(degraded.at(-1)!.data.message.content).toBe('One two three four.');

      await relay.restore();
      await follower.readUntil(status('live'), WAIT_MS);
      // Live again: the next run's deltas reach D's follower as they happen.
      const second = await SseConnection.open(`${baseA}${threadPath(thread)}/messages/stream`, {
        key: thread.key,
        body: { role: 'user', content: 'Again' },
      });
      const onA = await second.readUntil(runEnd);
      const live = await follower.readUntil(runEnd);
      follower.abort();
      expect(live.filter(isDelta).map((event) => event.data.delta)).toEqual(['One ', 'two ', 'three ', 'four.']);
      expect(live.map((event) => event.id)).toEqual(onA.slice(onA.length - live.length).map((event) => event.id));
      const logged = follower.received.filter((event) => event.event !== 'live-status');
      expectOrderedWithoutGaps(logged);
      expect((await storedExecution(thread, runId)).status).toBe('completed');
    },
  );
});
