import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { UUID_PATTERN as UUID } from '../helpers/ids.js';
import { SseConnection, httpJson, pollUntil, threadPath, type ThreadRef } from '../helpers/sse-client.js';

/**
 * Open event streams are counted per API key and per organisation (issue 7, M6): with a limit
 * of N, the N+1th stream is a 429 before anything is stored, another key of the organisation gets
 * in up to the organisation's limit, other organisations are not affected, and a slot is given
 * back however its stream ends.
 */

const PER_KEY = 3;
const PER_ORGANIZATION = 5;
const models = growingRegistry('stream-limits');

let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext({
    models: models.registry,
    streams: { maxPerKey: PER_KEY, maxPerOrganization: PER_ORGANIZATION },
  });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});

const opened: SseConnection[] = [];
function follow(thread: ThreadRef, key = thread.key, threadId = thread.threadId): Promise<SseConnection> {
  return SseConnection.open(`${base}${threadPath({ agentId: thread.agentId, threadId })}/stream`, { key }).then(
    (connection) => {
      opened.push(connection);
      return connection;
    },
  );
}

/** Hangs up `connection` and waits until the server has let its stream go. */
async function hangUp(connection: SseConnection): Promise<void> {
  const before = context.parley.sse.slotCount;
  connection.abort();
  await pollUntil(() => (context.parley.sse.slotCount < before ? true : undefined), { what: 'the slot to free' });
}

function expectTooMany(connection: SseConnection, detail: string): void {
  expect(connection.status).toBe(429);
  expect(connection.header('retry-after')).toBe('5');
  expect(connection.header('content-type')).toBe('application/json; charset=utf-8');
  expect(connection.body).toEqual({
    detail,
    code: 'too_many_streams',
    request_id: connection.header('x-request-id'),
  });
  expect(connection.body.request_id).toMatch(UUID);
}

const KEY_FULL = `This API key has ${PER_KEY} open event streams, the most it may hold; close one before opening another.`;
const ORGANIZATION_FULL = `This organisation has ${PER_ORGANIZATION} open event streams, the most it may hold; close one before opening another.`;

describe('open streams per key and per organisation', () => {
  afterAll(() => {
    for (const connection of opened) connection.abort();
  });

  it('admits N per key, answers the N+1th with 429 on both endpoints (storing nothing), frees a slot on hang-up', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: models.script([say('Hi.')]).id } });
    const streams = [];
    for (let index = 0; index < PER_KEY; index += 1) streams.push(await follow(thread));
    expect(streams.map((stream) => stream.status)).toEqual([200, 200, 200]);
    expect(context.parley.sse.size).toBe(PER_KEY);

    expectTooMany(await follow(thread), KEY_FULL);
    const posted = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
      key: thread.key,
      body: { role: 'user', content: 'Hello?' },
    });
    expectTooMany(posted, KEY_FULL);
    // The refused message was not stored and started no run.
    expect((await httpJson(base, thread.key, 'GET', `${threadPath(thread)}/messages`)).body).toEqual([]);
    const executions = await httpJson(base, thread.key, 'GET', `/api/v1/flows/executions?agent_id=${thread.agentId}`);
    expect(executions.body.total_count).toBe(0);

    await hangUp(streams[0]!);
    const again = await follow(thread);
    expect(again.status).toBe(200);
    expectTooMany(await follow(thread), KEY_FULL);
    await Promise.all([...streams.slice(1), again].map(hangUp));
    expect(context.parley.sse.slotCount).toBe(0);
  });

  it('counts every key of the organisation against its limit; other organisations are not affected', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const admin = client(context, thread.key);
    const created = await admin.post('/api/v1/api-keys', { scopes: ['read'], name: 'second key' });
    expect(created.status).toBe(200);
    const secondKey = created.body.key as string;

    const first = [];
    for (let index = 0; index < PER_KEY; index += 1) first.push(await follow(thread));
    const second = [await follow(thread, secondKey), await follow(thread, secondKey)];
    expect([...first, ...second].map((stream) => stream.status)).toEqual([200, 200, 200, 200, 200]);
    // The second key is under its own limit, but the organisation is at its own.
    expectTooMany(await follow(thread, secondKey), ORGANIZATION_FULL);

    const other = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const elsewhere = await follow(other);
    expect(elsewhere.status).toBe(200);

    await hangUp(first[0]!);
    const admitted = await follow(thread, secondKey);
    expect(admitted.status).toBe(200);
    await Promise.all([...first.slice(1), ...second, admitted, elsewhere].map(hangUp));
  });

  it('gives the slot back when no stream was opened (404) and when the stream ends by itself', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: models.script([say('Done.')]).id } });
    const held = [await follow(thread), await follow(thread)];
    // Three requests that never open a stream: the last slot stays free through them.
    for (let index = 0; index < 3; index += 1) {
      const missing = await follow(thread, thread.key, '0190a1b2-c3d4-7e5f-8a6b-9c0d1e2f3a4b');
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('thread_not_found');
    }
    // A reply's stream ends after run-end; its slot is free again afterwards.
    for (let index = 0; index < 2; index += 1) {
      const reply = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
        key: thread.key,
        body: { role: 'user', content: `Question ${index}` },
      });
      expect(reply.status).toBe(200);
      expect((await reply.readToEnd()).at(-1)?.event).toBe('run-end');
      await pollUntil(() => (context.parley.sse.slotCount === 2 ? true : undefined), { what: 'the reply’s slot' });
    }
    const third = await follow(thread);
    expect(third.status).toBe(200);
    expectTooMany(await follow(thread), KEY_FULL);
    await Promise.all([...held, third].map(hangUp));
  });

  it('gives the slot back when the client leaves before its stream opens, and leaves no stream behind', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    // The follow waits for the log's end; the client hangs up meanwhile.
    let proceed!: () => void;
    const proceeding = new Promise<void>((resolve) => (proceed = resolve));
    const lastSeq = context.store.events.lastSeq.bind(context.store.events);
    const spy = vi.spyOn(context.store.events, 'lastSeq').mockImplementationOnce(async (input) => {
      await proceeding;
      return lastSeq(input);
    });
    try {
      const controller = new AbortController();
      const request = fetch(`${base}${threadPath(thread)}/stream`, {
        headers: { 'x-api-key': thread.key },
        signal: controller.signal,
      }).catch(() => 'aborted');
      await pollUntil(() => (spy.mock.calls.length === 1 && context.parley.sse.slotCount === 1 ? true : undefined), {
        what: 'the request to wait for the log',
      });
      controller.abort();
      expect(await request).toBe('aborted');
      await pollUntil(() => (context.parley.sse.slotCount === 0 ? true : undefined), { what: 'the slot to free' });
      proceed();
      await pollUntil(
        () => (context.parley.sse.size === 0 && context.parley.bus.subscriberCount === 0 ? true : undefined),
        { what: 'the late stream to end' },
      );
      expect(context.parley.sse.bufferedBytes).toBe(0);
    } finally {
      proceed();
      spy.mockRestore();
    }
  });
});
