import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamsConfig } from '../../src/config.js';
import { growingRegistry, say, type ScriptAction } from '../fixtures/scripted-model.js';
import { client, createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { HeldStream } from '../helpers/held-stream.js';
import {
  SseConnection,
  frames,
  pollUntil,
  replayLog,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * Clients that do not read (issue 7, M6). The unread bytes of one stream and of all streams of
 * the process are capped; a stream past a cap is ended, and its client resumes from the last id
 * it got with every later event exactly once. The clients here stop reading for real (a paused
 * socket), so the kernel's socket buffers take a few MiB first: replies are 8 MiB of deltas and
 * the limits small.
 */

const DELTA_BYTES = 64 * 1024;
const DELTAS = 128;
/** Ids of the reply's log: the question, run start, 128 deltas after 4, then message end and run end. */
const LOG_IDS = ['1', '2', '3', '4', ...Array.from({ length: DELTAS }, (_, index) => `4.${index + 1}`), '5', '6'];
const models = growingRegistry('stream-backlog');

/** 8 MiB of text in 64 KiB deltas, each numbered, with a timer turn between two. */
function bigReply(): string {
  const actions: ScriptAction[] = [];
  for (let index = 0; index < DELTAS; index += 1) {
    actions.push({ type: 'text-delta', text: `${String(index).padStart(4, '0')} `.padEnd(DELTA_BYTES, 'x') });
    actions.push({ type: 'wait', ms: 2 });
  }
  actions.push({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 10, outputTokens: DELTAS } });
  return models.script([actions]).id;
}

function useContext(streams: Partial<StreamsConfig>, keepAliveMs?: number) {
  const state = {} as { context: TestContext; base: string };
  beforeAll(async () => {
    state.context = await createTestContext({
      models: models.registry,
      streams,
      ...(keepAliveMs ? { runtime: { sseKeepAliveMs: keepAliveMs } } : {}),
    });
    state.base = await state.context.listen();
  });
  afterAll(async () => {
    await state.context?.close();
  });
  return state;
}

function heldFollower(thread: ThreadRef): Promise<HeldStream> {
  return HeldStream.open(`${thread.base}${threadPath(thread)}/stream`, { key: thread.key });
}

/** Posts the big question and waits for the stored reply (through inject: no stream of its own). */
async function askForBigReply(context: TestContext, thread: ThreadRef): Promise<void> {
  const reply = await client(context, thread.key).post(`${threadPath(thread)}/messages`, {
    role: 'user',
    content: 'Write a lot.',
  });
  expect(reply.status).toBe(200);
  expect(reply.body.content).toHaveLength(DELTAS * DELTA_BYTES);
}

/** Follows the thread from `lastId` until `until`; the events after `lastId`. */
async function resume(thread: ThreadRef, lastId: string, until: (event: SseEvent) => boolean): Promise<SseEvent[]> {
  const resumed = await SseConnection.open(`${thread.base}${threadPath(thread)}/stream`, {
    key: thread.key,
    headers: { 'Last-Event-ID': lastId },
  });
  expect(resumed.status).toBe(200);
  try {
    return await resumed.readUntil(until, 20_000);
  } finally {
    resumed.abort();
  }
}

/** `events` are the log's first events, with no gap; resumed from the last of them, the client gets the rest once. */
async function expectResumable(thread: ThreadRef, events: SseEvent[]): Promise<void> {
  expect(events.length).toBeGreaterThan(4);
  expect(events.map((event) => event.id)).toEqual(LOG_IDS.slice(0, events.length));
  const rest = await resume(thread, events.at(-1)!.id!, (event) => event.event === 'run-end');
  const log = await replayLog(thread, 6);
  expect(log.map((event) => event.id)).toEqual(LOG_IDS);
  expect(frames([...events, ...rest]), 'no gap, no duplicate').toEqual(frames(log));
}

async function expectNothingHeld(context: TestContext): Promise<void> {
  const { sse, bus } = context.parley;
  await pollUntil(
    () => (sse.slotCount === 0 && sse.bufferedBytes === 0 && bus.subscriberCount === 0 ? true : undefined),
    {
      what: `streams to let go (slots ${sse.slotCount}, bytes ${sse.bufferedBytes}, subscribers ${bus.subscriberCount})`,
    },
  );
}

describe('SSE_MAX_BACKLOG_BYTES', () => {
  const state = useContext({ maxBacklogBytes: 64 * 1024, maxBufferedBytes: 1024 * 1024 * 1024 });

  it('ends a stream whose client stops reading with slow_consumer; the client resumes from its last id', async () => {
    const { context, base } = state;
    const thread = await createThreadRef(context, { base, configuration: { model: bigReply() } });
    const held = await heldFollower(thread);
    expect(held.status).toBe(200);
    const asked = askForBigReply(context, thread);
    await pollUntil(() => (context.parley.sse.size === 0 ? true : undefined), {
      what: 'the held stream to be ended',
      timeoutMs: 20_000,
    });
    // The client reads again: what was sent, then the error event, then the end of the response.
    const { events, ending } = await held.readToEnd();
    expect(ending).toBe('end');
    expect(events.at(-1)).toEqual({
      id: undefined,
      event: 'stream-error',
      data: {
        type: 'stream-error',
        code: 'slow_consumer',
        detail: 'The client did not read the stream fast enough; resume it with Last-Event-ID.',
      },
      text: '{"type":"stream-error","code":"slow_consumer","detail":"The client did not read the stream fast enough; resume it with Last-Event-ID."}',
    });
    await asked;
    await expectResumable(thread, events.slice(0, -1));
    await expectNothingHeld(context);
  });
});

describe('a stream ended while its client reads nothing', () => {
  // The last bytes of an ended stream wait one keep-alive interval for their client.
  const state = useContext({ maxBacklogBytes: 64 * 1024, maxBufferedBytes: 1024 * 1024 * 1024 }, 300);

  it('is disconnected after one keep-alive interval, its bytes let go; the client resumes from what it got', async () => {
    const { context, base } = state;
    const thread = await createThreadRef(context, { base, configuration: { model: bigReply() } });
    const held = await heldFollower(thread);
    await askForBigReply(context, thread);
    await expectNothingHeld(context);
    // The error event was behind the unread bytes the server dropped with the connection.
    const { events, ending } = await held.readToEnd();
    expect(ending).toBe('cut');
    expect(events.filter((event) => event.event === 'stream-error')).toEqual([]);
    await expectResumable(thread, events);
    await expectNothingHeld(context);
  });
});

describe('SSE_MAX_BUFFERED_BYTES', () => {
  const state = useContext({ maxBacklogBytes: 1024 * 1024 * 1024, maxBufferedBytes: 1024 * 1024 });
  // Replies well under the cap, even their message-end and run-end (text and HTML, about 400 KiB
  // each), so a client that resumes and reads stays under it; 10 of them outgrow the kernel's
  // buffers, and their 60 durable events keep every delta in the replay buffer (its window is 64).
  const REPLIES = 10;
  const reply = (): ScriptAction[] => [
    ...Array.from({ length: 4 }, (_, index) => ({
      type: 'text-delta' as const,
      text: `${index} `.padEnd(48 * 1024, 'y'),
    })),
    { type: 'finish', finishReason: 'stop', usage: { inputTokens: 10, outputTokens: 4 } },
  ];
  /** Per reply: question (2), run start, reply start, 4 deltas, reply end, run end. */
  const ids = Array.from({ length: REPLIES }, (_, run) => {
    const seq = 6 * run;
    return [1, 2, 3, 4]
      .map((n) => String(seq + n))
      .concat(
        ['1', '2', '3', '4'].map((n) => `${seq + 4}.${n}`),
        [String(seq + 5), String(seq + 6)],
      );
  }).flat();

  it('drops the largest backlogs of the process; a stream that keeps up stays; the dropped resume', async () => {
    const { context, base } = state;
    const modelId = models.script(Array.from({ length: REPLIES }, reply)).id;
    const thread = await createThreadRef(context, { base, configuration: { model: modelId } });
    const quiet = await createThreadRef(context, {
      base,
      configuration: { model: models.script([say('Still here.')]).id },
    });
    const reader = await SseConnection.open(`${base}${threadPath(quiet)}/stream`, { key: quiet.key });
    const held = [await heldFollower(thread), await heldFollower(thread)];
    const api = client(context, thread.key);
    for (let run = 0; run < REPLIES; run += 1) {
      const answered = await api.post(`${threadPath(thread)}/messages`, { role: 'user', content: `Question ${run}` });
      expect(answered.status).toBe(200);
    }
    await pollUntil(() => (context.parley.sse.slotCount === 1 ? true : undefined), {
      what: 'the held streams to be dropped',
    });
    const dropped = context.logs
      .map((line) => JSON.parse(line))
      .filter(
        (entry) =>
          entry.msg === 'stream dropped: the streams of this process hold more than SSE_MAX_BUFFERED_BYTES unread',
      );
    expect(dropped.map((entry) => entry.level)).toEqual([40, 40]);

    // The stream with nothing unread is still served.
    await client(context, quiet.key).post(`${threadPath(quiet)}/messages`, { role: 'user', content: 'Hello?' });
    const replied = await reader.readUntil((event) => event.event === 'run-end');
    expect(replied.map((event) => event.id)).toEqual(['1', '2', '3', '4', '4.1', '4.2', '5', '6']);
    reader.abort();

    const lastSeq = 6 * REPLIES;
    for (const stream of held) {
      const { events, ending } = await stream.readToEnd();
      expect(ending).toBe('cut');
      expect(events.length).toBeGreaterThan(4);
      expect(events.map((event) => event.id)).toEqual(ids.slice(0, events.length));
      const rest = await resume(thread, events.at(-1)!.id!, (event) => event.id === String(lastSeq));
      const log = await replayLog(thread, lastSeq);
      expect(log.map((event) => event.id)).toEqual(ids);
      expect(frames([...events, ...rest]), 'no gap, no duplicate').toEqual(frames(log));
    }
    await expectNothingHeld(context);
  });
});
