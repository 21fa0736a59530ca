import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS } from '../../src/tools/builtin/index.js';
import type { Tool } from '../../src/tools/tool.js';
import { gatedModel } from '../fixtures/gated-model.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { createThreadRef, type TestContext } from '../helpers/harness.js';
import {
  REDIS_URL,
  WAIT_MS,
  expectOrderedWithoutGaps,
  ids,
  liveConfig,
  liveOn,
  startLivePair,
} from '../helpers/live-redis.js';
import {
  SseConnection,
  frames,
  httpJson,
  isDelta,
  pollUntil,
  storedExecution,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * The live layer over Redis (docs/adr/0032-redis-live-layer.md): two apps on one database (this
 * suite's dialect: SQLite, or PostgreSQL with PARLEY_TEST_DATABASE=postgres), each with its own
 * Redis connections and one key prefix, as two processes of one deployment. A follower on B sees
 * a run on A with no gap and no duplicate, resumes on B from an id A sent, cancels from B reach A
 * (503 `run_unreachable` when no process answers), and an approval decided on B goes on to the
 * end in A's stream.
 */

const transfers: unknown[] = [];
const wireMoney: Tool = {
  name: 'wire_money',
  description: 'Sends money to an account.',
  inputSchema: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] },
  requiresApproval: true,
  async execute(input) {
    transfers.push(input);
    return { sent: input.amount };
  },
};

const models = growingRegistry('live-redis');
const gated = (before: string[], after: string[]) => {
  const model = gatedModel(models.freshId('gated'), before, after);
  models.add(model.model);
  return model;
};

let context: TestContext;
let baseA: string;
let baseB: string;
const prefix = `parley-test:${randomUUID()}`;
beforeAll(async () => {
  ({ context, baseA, baseB } = await startLivePair(REDIS_URL, prefix, {
    models: models.registry,
    tools: new Map<string, Tool>([...BUILTIN_TOOLS, [wireMoney.name, wireMoney]]),
  }));
}, 2 * WAIT_MS);
afterAll(async () => {
  await context?.close();
});

function ask(thread: ThreadRef, content: string): Promise<SseConnection> {
  return SseConnection.open(`${thread.base}${threadPath(thread)}/messages/stream`, {
    key: thread.key,
    body: { role: 'user', content },
  });
}

function follow(base: string, thread: ThreadRef, lastEventId?: string): Promise<SseConnection> {
  return SseConnection.open(`${base}${threadPath(thread)}/stream`, {
    key: thread.key,
    headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  });
}

const deltaOf = (text: string) => (event: SseEvent) => event.event === 'text-delta' && event.data.delta === text;
const runEnd = (event: SseEvent) => event.event === 'run-end';
const runIdOf = (events: SseEvent[]) => events.find((event) => event.event === 'run-start')!.data.run_id as string;

describe('a run on process A', () => {
  let thread: ThreadRef;
  let onA: SseEvent[];

  it('is followed on B from the start and from now, with no gap and no duplicate', async () => {
    const model = gated(['One ', 'two '], ['three ', 'four.']);
    thread = await createThreadRef(context, { base: baseA, configuration: { model: model.id, tools: [] } });
    const asker = await ask(thread, 'Count to four');
    const head = await asker.readUntil(deltaOf('two '));

    // From the start: A's stored events and its deltas (from the Redis stream), then live ones.
    const fromStart = await follow(baseB, thread, '0');
    expect(frames(await fromStart.readUntil(deltaOf('two ')))).toEqual(frames(head));
    const fromNow = await follow(baseB, thread);
    model.open();
    onA = [...head, ...(await asker.readUntil(runEnd))];
    const seenFromStart = [...fromStart.received];
    await fromStart.readUntil(runEnd);
    const seenFromNow = await fromNow.readUntil(runEnd);
    fromStart.abort();
    fromNow.abort();

    expect(frames(fromStart.received)).toEqual(frames(onA));
    expect(seenFromStart.length).toBeGreaterThan(0);
    expectOrderedWithoutGaps(onA);
    expect(onA.filter(isDelta).map((event) => event.data.delta)).toEqual(['One ', 'two ', 'three ', 'four.']);
    // From now: the log from its end on (the deltas after it from the Redis stream), A's suffix.
    const start = onA.findIndex((event) => event.id === seenFromNow[0]!.id);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(frames(seenFromNow)).toEqual(frames(onA.slice(start)));
    expect(seenFromNow.filter(isDelta).map((event) => event.data.delta)).toContain('four.');
  });

  it('resumes on B from a Last-Event-ID that A sent, deltas included', async () => {
    const middle = onA.findIndex(deltaOf('two '));
    const resumed = await follow(baseB, thread, onA[middle]!.id);
    const events = await resumed.readUntil(runEnd);
    resumed.abort();
    expect(ids(events)).toEqual(ids(onA.slice(middle + 1)));
    expect(frames(events)).toEqual(frames(onA.slice(middle + 1)));
  });

  it('is cancelled from B: A stops it, its stream ends cancelled', async () => {
    const model = gated(['Working '], ['never.']);
    const run = await createThreadRef(context, { base: baseA, configuration: { model: model.id, tools: [] } });
    const asker = await ask(run, 'Work');
    const head = await asker.readUntil(deltaOf('Working '));
    const runId = runIdOf(head);
    const messageId = head.find((event) => event.event === 'run-start')!.data.message_id as string;

    const cancelled = await httpJson(baseB, run.key, 'POST', `${threadPath(run)}/runs/${runId}/cancel`);
    expect({ status: cancelled.status, body: cancelled.body }).toEqual({
      status: 200,
      body: { run_id: runId, status: 'cancelling', message_id: messageId },
    });
    const end = (await asker.readUntil(runEnd)).at(-1)!;
    expect(end.data).toMatchObject({ run_id: runId, status: 'cancelled', finish_reason: 'cancelled' });
    expect((await storedExecution(run, runId)).status).toBe('cancelled');
    // Ended: a second cancel, from either process, finds nothing to stop.
    const again = await httpJson(baseB, run.key, 'POST', `${threadPath(run)}/runs/${runId}/cancel`);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'run_not_active' });
  });

  it('waiting for approval, is approved on B and goes on to the end in A’s stream', async () => {
    const model = models.script([
      callTools({ name: 'wire_money', input: { amount: 25 }, id: 'call_wire' }),
      say('Sent 25.'),
    ]);
    const run = await createThreadRef(context, {
      base: baseA,
      configuration: { model: model.id, tools: ['wire_money'] },
    });
    const asker = await ask(run, 'Pay 25');
    const head = await asker.readUntil((event) => event.event === 'tool-approval-request');
    const runId = runIdOf(head);
    await pollUntil(() => (context.parley.runtime.activeRunCount === 0 ? true : undefined), {
      what: 'the run to wait',
    });

    const path = `${threadPath(run)}/runs/${runId}/tool-calls/call_wire/approve`;
    const approved = await httpJson(baseB, run.key, 'POST', path, {});
    expect({ status: approved.status, decision: approved.body.decision }).toEqual({
      status: 200,
      decision: 'approved',
    });
    const tail = await asker.readUntil(runEnd);
    expect(tail.find((event) => event.event === 'tool-call-end')!.data).toMatchObject({
      tool_call_id: 'call_wire',
      approval: 'approved',
      result: { sent: 25 },
    });
    expect(tail.filter(isDelta).map((event) => event.data.delta)).toEqual(['Sent ', '25.']);
    expect(tail.at(-1)!.data).toMatchObject({ run_id: runId, status: 'completed' });
    expectOrderedWithoutGaps([...head, ...tail]);
    expect(transfers).toEqual([{ amount: 25 }]);
  });
});

describe('a run no process answers for', () => {
  it('cannot be cancelled: 503 run_unreachable, and nothing changes', async () => {
    // Another deployment's process as far as B can tell: its live layer is under another prefix.
    const far = await context.peer({ live: liveConfig(REDIS_URL, `parley-test:${randomUUID()}`) });
    try {
      const baseFar = await far.listen();
      await liveOn(far.parley);
      const model = gated(['Busy '], ['done.']);
      const run = await createThreadRef(context, { base: baseFar, configuration: { model: model.id, tools: [] } });
      const asker = await ask(run, 'Work');
      const runId = runIdOf(await asker.readUntil(deltaOf('Busy ')));

      const refused = await httpJson(baseB, run.key, 'POST', `${threadPath(run)}/runs/${runId}/cancel`);
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 503, code: 'run_unreachable' });
      expect((await storedExecution(run, runId)).status).toBe('running');
      model.open();
      expect((await asker.readUntil(runEnd)).at(-1)!.data).toMatchObject({ run_id: runId, status: 'completed' });
    } finally {
      await far.close();
    }
  });
});
