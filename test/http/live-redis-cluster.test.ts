import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadKey } from '../../src/runtime/redis-live-connections.js';
import { gatedModel, phasedModel, type GatedModel } from '../fixtures/gated-model.js';
import { growingRegistry } from '../fixtures/scripted-model.js';
import { createThreadRef, type TestContext } from '../helpers/harness.js';
import { WAIT_MS, expectOrderedWithoutGaps, ids, startLivePair } from '../helpers/live-redis.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import {
  SseConnection,
  frames,
  httpJson,
  isDelta,
  storedExecution,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * The live layer on a real Redis Cluster (three masters started here, `redis-cli --cluster
 * create`), reached with `REDIS_URL=redis+cluster://…`: two apps on one database stream and
 * resume across it. A thread's channel and replay stream share the hash tag `{thread:<id>}`, so
 * every command touches one slot and no CROSSSLOT error can happen; the stream lives on the node
 * that owns that slot, wherever the recording process's client first connected.
 */

const models = growingRegistry('live-redis-cluster');
let cluster: RedisCluster;
let context: TestContext;
let baseA: string;
let baseB: string;
const prefix = `parley-test:${randomUUID()}`;
beforeAll(async () => {
  cluster = await startRedisCluster();
  ({ context, baseA, baseB } = await startLivePair(cluster.url, prefix, {
    models: models.registry,
  }));
}, 3 * WAIT_MS);
afterAll(async () => {
  await context?.close();
  await cluster?.stop();
});

const ask = (base: string, thread: ThreadRef, content: string) =>
  SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
    key: thread.key,
    body: { role: 'user', content },
  });
const follow = (base: string, thread: ThreadRef, lastEventId: string) =>
  SseConnection.open(`${base}${threadPath(thread)}/stream`, {
    key: thread.key,
    headers: { 'last-event-id': lastEventId },
  });
const deltaOf = (text: string) => (event: SseEvent) => event.event === 'text-delta' && event.data.delta === text;
const runEnd = (event: SseEvent) => event.event === 'run-end';
const runIdOf = (events: SseEvent[]) => events.find((event) => event.event === 'run-start')!.data.run_id as string;
const texts = (events: SseEvent[]) => events.filter(isDelta).map((event) => event.data.delta as string);

describe('on a Redis Cluster', () => {
  let thread: ThreadRef;
  let firstRun: SseEvent[];
  let model: GatedModel;

  it('a run on A is followed on B from the start and resumed on B mid-reply from an id A sent', async () => {
    model = phasedModel(models.freshId('phased'), [
      [
        ['One ', 'two ', 'three '],
        ['four ', 'five.'],
      ],
      [['Six ', 'seven '], ['eight.']],
    ]);
    models.add(model.model);
    thread = await createThreadRef(context, { base: baseA, configuration: { model: model.id, tools: [] } });
    const asker = await ask(baseA, thread, 'Count to five');
    const head = await asker.readUntil(deltaOf('three '));
    const fromStart = await follow(baseB, thread, '0');
    expect(frames(await fromStart.readUntil(deltaOf('three ')))).toEqual(frames(head));
    // Mid-reply, the run still going on A: B replays the deltas after `two ` from the cluster.
    const middle = head.findIndex(deltaOf('two '));
    const resumed = await follow(baseB, thread, head[middle]!.id!);
    expect(frames(await resumed.readUntil(deltaOf('three ')))).toEqual(frames(head.slice(middle + 1)));

    model.open();
    firstRun = [...head, ...(await asker.readUntil(runEnd))];
    await fromStart.readUntil(runEnd);
    await resumed.readUntil(runEnd);
    fromStart.abort();
    resumed.abort();
    expectOrderedWithoutGaps(firstRun);
    expect(texts(firstRun)).toEqual(['One ', 'two ', 'three ', 'four ', 'five.']);
    expect(frames(fromStart.received)).toEqual(frames(firstRun));
    expect(frames(resumed.received)).toEqual(frames(firstRun.slice(middle + 1)));
  });

  it('keeps a thread’s channel and replay stream in one slot, on the node that owns it', async () => {
    const live = threadKey(prefix, thread.threadId, 'live');
    const deltas = threadKey(prefix, thread.threadId, 'deltas');
    const [port] = cluster.ports;
    const slot = await cluster.cli(port!, 'cluster', 'keyslot', deltas);
    expect(await cluster.cli(port!, 'cluster', 'keyslot', live)).toBe(slot);
    // Five deltas recorded by A, read through any node (`-c` follows the MOVED redirection).
    for (const node of cluster.ports) expect(await cluster.cli(node, '-c', 'xlen', deltas)).toBe('5');
    const owners = await Promise.all(
      cluster.ports.map(async (node) => Number(await cluster.cli(node, 'cluster', 'countkeysinslot', slot))),
    );
    // The slot holds the stream and the thread's state hash (its latest sequence and delta count).
    expect(owners.filter((count) => count === 2)).toHaveLength(1);
    expect(owners.filter((count) => count === 0)).toHaveLength(2);
  });

  it('orders the ids of a second run owned by B after A’s, and resumes on A from B’s mid-reply id', async () => {
    const asker = await ask(baseB, thread, 'Go on');
    const head = await asker.readUntil(deltaOf('seven '));
    const middle = head.findIndex(deltaOf('Six '));
    const resumed = await follow(baseA, thread, head[middle]!.id!);
    expect(frames(await resumed.readUntil(deltaOf('seven ')))).toEqual(frames(head.slice(middle + 1)));
    model.open();
    const secondRun = [...head, ...(await asker.readUntil(runEnd))];
    const tail = await resumed.readUntil(runEnd);
    resumed.abort();
    expect(frames(resumed.received)).toEqual(frames(secondRun.slice(middle + 1)));
    expect(tail.at(-1)!.data).toMatchObject({ run_id: runIdOf(secondRun), status: 'completed' });

    // The whole thread, replayed on A: both owners' events in one order, no gap, no duplicate.
    const everything = await follow(baseA, thread, '0');
    const all = await everything.readUntil((event) => event.id === secondRun.at(-1)!.id);
    everything.abort();
    expectOrderedWithoutGaps(all);
    expect(ids(all).slice(-secondRun.length)).toEqual(ids(secondRun));
    expect(texts(all)).toEqual(['One ', 'two ', 'three ', 'four ', 'five.', 'Six ', 'seven ', 'eight.']);
  });

  it('cancels from B a run A owns', async () => {
    const model = gatedModel(models.freshId('gated'), ['Working '], ['never.']);
    models.add(model.model);
    const run = await createThreadRef(context, { base: baseA, configuration: { model: model.id, tools: [] } });
    const asker = await ask(baseA, run, 'Work');
    const runId = runIdOf(await asker.readUntil(deltaOf('Working ')));
    const cancelled = await httpJson(baseB, run.key, 'POST', `${threadPath(run)}/runs/${runId}/cancel`);
    expect({ status: cancelled.status, state: cancelled.body.status }).toEqual({ status: 200, state: 'cancelling' });
    expect((await asker.readUntil(runEnd)).at(-1)!.data).toMatchObject({ run_id: runId, status: 'cancelled' });
    expect((await storedExecution(run, runId)).status).toBe('cancelled');
  });
});
