import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phasedModel } from '../fixtures/gated-model.js';
import { growingRegistry } from '../fixtures/scripted-model.js';
import { createThreadRef, type TestContext } from '../helpers/harness.js';
import { REDIS_URL, WAIT_MS, expectOrderedWithoutGaps, ids, startLivePair } from '../helpers/live-redis.js';
import {
  SseConnection,
  frames,
  httpJson,
  isDelta,
  storedMessages,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * A durable event another process commits while this one streams a reply (issue 14, event ids
 * across processes): process A runs the reply, process B stores a rating of an earlier answer in
 * the middle of it. The deltas A sends after the rating follow it (`<seq of the rating>.<n>`),
 * so a follower on B sees every event once and in order, and a resume from just before or just
 * after the rating replays exactly the rest. Two apps over one database (SQLite, or PostgreSQL
 * with PARLEY_TEST_DATABASE=postgres) and one Redis.
 */

const models = growingRegistry('live-foreign');
let context: TestContext;
let baseA: string;
let baseB: string;
beforeAll(async () => {
  ({ context, baseA, baseB } = await startLivePair(REDIS_URL, `parley-test:${randomUUID()}`, {
    models: models.registry,
  }));
}, 2 * WAIT_MS);
afterAll(async () => {
  await context?.close();
});

function open(base: string, thread: ThreadRef, path: string, init: { body?: unknown; lastEventId?: string }) {
  return SseConnection.open(`${base}${threadPath(thread)}${path}`, {
    key: thread.key,
    ...(init.body === undefined ? {} : { body: init.body }),
    headers: init.lastEventId === undefined ? {} : { 'last-event-id': init.lastEventId },
  });
}

const runEnd = (event: SseEvent) => event.event === 'run-end';
const rated = (event: SseEvent) => event.event === 'feedback-created';

describe('a rating stored by B while A streams a reply', () => {
  it('sits between the deltas for every follower, and resumes around it replay exactly the rest', async () => {
    const phased = phasedModel(models.freshId('phased'), [
      [['Hello.']],
      [
        ['One ', 'two '],
        ['three ', 'four.'],
      ],
    ]);
    models.add(phased.model);
    const thread = await createThreadRef(context, { base: baseA, configuration: { model: phased.id, tools: [] } });
    const first = await httpJson(baseA, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'Hi',
    });
    expect(first.status).toBe(200);
    const answer = (await storedMessages(thread)).at(-1)!;

    const follower = await open(baseB, thread, '/stream', {});
    const asker = await open(baseA, thread, '/messages/stream', { body: { role: 'user', content: 'Count' } });
    await phased.reached(0);
    const rating = await httpJson(baseB, thread.key, 'POST', '/api/v1/feedback/chat', {
      message_id: answer.id,
      source: 'chat',
      feedback_details: { feedback_type: 'positive' },
    });
    expect(rating.status).toBe(200);
    await follower.readUntil(rated);
    phased.open();
    await follower.readUntil(runEnd);
    await asker.readUntil(runEnd);
    const [onB, onA] = [[...follower.received], [...asker.received]];
    follower.abort();
    asker.abort();

    for (const events of [onB, onA]) {
      expectOrderedWithoutGaps(events);
      expect(events.filter(isDelta).map((event) => event.data.delta)).toEqual(['One ', 'two ', 'three ', 'four.']);
    }
    expect(onB.filter(rated)).toHaveLength(1);
    const order = onB.filter((event) => isDelta(event) || rated(event)).map((event) => event.data.delta ?? 'rating');
    expect(order).toEqual(['One ', 'two ', 'rating', 'three ', 'four.']);

    // The whole log from B, then resumes from just before and just after the rating.
    const lastId = onB.at(-1)!.id;
    const theEnd = (event: SseEvent) => event.id === lastId;
    const whole = await open(baseB, thread, '/stream', { lastEventId: '0' });
    const log = await whole.readUntil(theEnd);
    whole.abort();
    expectOrderedWithoutGaps(log);
    const at = log.findIndex(rated);
    expect(frames(log.slice(log.length - onB.length))).toEqual(frames(onB));
    for (const from of [at - 1, at]) {
      const resumed = await open(baseB, thread, '/stream', { lastEventId: log[from]!.id! });
      const rest = await resumed.readUntil(theEnd);
      resumed.abort();
      expect(ids(rest)).toEqual(ids(log.slice(from + 1)));
      expect(frames(rest)).toEqual(frames(log.slice(from + 1)));
    }
  });
});
