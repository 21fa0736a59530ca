import { DefaultChatTransport, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callTools, growingRegistry, say, type ScriptAction } from '../fixtures/scripted-model.js';
import { readChat, TOOL_THEN_ANSWER_CHUNK_TYPES } from '../helpers/ai-sdk-chat.js';
import { client, createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { UUID_PATTERN as UUID } from '../helpers/ids.js';
import {
  SseConnection,
  expectStoredMatchesStream,
  frames,
  httpJson,
  idParts,
  parseEvents,
  pollUntil,
  readRaw,
  replayLog,
  storedExecution,
  storedMessages,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/** What every stream sends first: a comment, at once. */
const OPENING = ': stream open\n\n';

/**
 * The SSE surface over real HTTP: framing, resuming with Last-Event-ID, clients that go away, the
 * in-band error event, the AI SDK view and tenancy of the streams. Every stream is checked
 * against what the API then says is stored.
 */

const models = growingRegistry('streaming');
function model(steps: ScriptAction[][]): string {
  return models.script(steps).id;
}

const delta = (text: string): ScriptAction => ({ type: 'text-delta', text });
const wait = (ms: number): ScriptAction => ({ type: 'wait', ms });
const stop: ScriptAction = { type: 'finish', finishReason: 'stop', usage: { inputTokens: 10, outputTokens: 5 } };

let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext({ models: models.registry });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});

function newThread(configuration: Record<string, unknown>): Promise<ThreadRef & { organizationId: string }> {
  return createThreadRef(context, { base, configuration });
}

function follow(
  thread: ThreadRef,
  options: { query?: string; headers?: Record<string, string> } = {},
): Promise<SseConnection> {
  return SseConnection.open(`${base}${threadPath(thread)}/stream${options.query ?? ''}`, {
    key: thread.key,
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

/** The server holds no stream and no live subscription any more (nothing leaks after a client leaves). */
async function expectServerStreamsClosed(): Promise<void> {
  await pollUntil(
    () => (context.parley.sse.size === 0 && context.parley.bus.subscriberCount === 0 ? true : undefined),
    {
      what: `open streams to close (sse ${context.parley.sse.size}, subscribers ${context.parley.bus.subscriberCount})`,
    },
  );
}

describe('POST …/messages/stream framing', () => {
  it('sends exact headers and frames, ids strictly increasing, then ends; the stream is what is stored', async () => {
    const modelId = model([say('Hello there world.')]);
    const thread = await newThread({ model: modelId, tools: [] });
    const { status, headers, text } = await readRaw(`${base}${threadPath(thread)}/messages/stream`, {
      key: thread.key,
      body: { role: 'user', content: 'Hi' },
    });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('x-accel-buffering')).toBe('no');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('x-request-id')).toMatch(UUID);

    // The stream opens with one comment (so buffering proxies pass it on at once); then every frame
    // is exactly `id: …\nevent: …\ndata: <one line of JSON>\n\n`, nothing else in between.
    expect(text.startsWith(OPENING)).toBe(true);
    expect(text.endsWith('\n\n')).toBe(true);
    const raw = text.slice(OPENING.length, -2).split('\n\n');
    const parsed = raw.map((chunk) => {
      const match = /^id: (\d+(?:\.\d+)?)\nevent: ([a-z-]+)\ndata: ([^\n]+)$/.exec(chunk);
      expect(match, `frame ${JSON.stringify(chunk)}`).not.toBeNull();
      return { id: match![1]!, event: match![2]!, data: JSON.parse(match![3]!) };
    });
    expect(
      parsed.map((frame) => `id: ${frame.id}\nevent: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`).join(''),
    ).toBe(text.slice(OPENING.length));
    expect(parsed.map((frame) => `${frame.id} ${frame.event}`)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '4.1 text-delta',
      '4.2 text-delta',
      '4.3 text-delta',
      '5 message-end',
      '6 run-end',
    ]);
    // A standard parser reads the same frames.
    const events = parseEvents(text);
    expect(frames(events)).toEqual(parsed);

    const userId = parsed[0]!.data.message_id as string;
    const runId = parsed[2]!.data.run_id as string;
    const assistantId = parsed[2]!.data.message_id as string;
    for (const id of [userId, runId, assistantId]) expect(id).toMatch(UUID);
    expect(new Set([userId, runId, assistantId]).size).toBe(3);
    const user = parsed[1]!.data.message;
    expect(user).toEqual({
      id: userId,
      thread_id: thread.threadId,
      content: 'Hi',
      content_html: null,
      role: 'user',
      tool_calls: [],
      attachments: [],
      metadata: {},
      created_at: expect.any(String),
      feedback: null,
    });
    const usage = { input_tokens: 10, output_tokens: 5, total_tokens: 15 };
    const assistant = {
      id: assistantId,
      thread_id: thread.threadId,
      content: 'Hello there world.',
      content_html: '<p>Hello there world.</p>\n',
      role: 'assistant',
      tool_calls: [],
      attachments: [],
      metadata: {
        run_id: runId,
        flow_execution_id: runId,
        model: modelId,
        usage,
        // A scripted model has no price: its cost is unknown, not 0.
        cost_estimate: null,
        finish_reason: 'stop',
        status: 'completed',
      },
      created_at: new Date(Date.parse(user.created_at) + 1).toISOString(),
      feedback: null,
    };
    // Each frame's JSON starts with its event name as `type`, for clients that read only `data`.
    expect(parsed.map((frame) => frame.data)).toEqual([
      { type: 'message-start', message_id: userId, role: 'user', run_id: null },
      { type: 'message-end', message: user },
      { type: 'run-start', run_id: runId, message_id: assistantId, model: modelId },
      { type: 'message-start', message_id: assistantId, role: 'assistant', run_id: runId },
      { type: 'text-delta', message_id: assistantId, run_id: runId, step: 1, delta: 'Hello ' },
      { type: 'text-delta', message_id: assistantId, run_id: runId, step: 1, delta: 'there ' },
      { type: 'text-delta', message_id: assistantId, run_id: runId, step: 1, delta: 'world.' },
      { type: 'message-end', message: assistant },
      { type: 'run-end', run_id: runId, status: 'completed', finish_reason: 'stop', usage, message: assistant },
    ]);
    expect(raw.every((chunk) => /\ndata: \{"type":"[a-z-]+"/.test(chunk))).toBe(true);

    const { messages, executions } = await expectStoredMatchesStream(thread, events);
    expect(messages).toEqual([user, assistant]);
    expect(executions.get(runId)).toMatchObject({
      status: 'completed',
      agent_id: thread.agentId,
      final_output: { content: 'Hello there world.', message_id: assistantId },
      error_message: null,
      tool_calls_count: 0,
    });
    await expectServerStreamsClosed();
  });
});

describe('POST …/messages/stream of a message without a run', () => {
  it('streams the stored message’s two events, with their log ids, and ends', async () => {
    const thread = await newThread({ model: 'demo' });
    const follower = await follow(thread);
    const stream = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
      key: thread.key,
      body: { role: 'assistant', content: 'Imported answer', metadata: { source: 'import' } },
    });
    expect(stream.status).toBe(200);
    const events = await stream.readToEnd();
    expect(events.map((event) => `${event.id} ${event.event}`)).toEqual(['1 message-start', '2 message-end']);
    const stored = await storedMessages(thread);
    expect(stored).toHaveLength(1);
    expect(events[1]!.data).toEqual({ type: 'message-end', message: stored[0] });
    expect(stored[0]).toMatchObject({ role: 'assistant', content: 'Imported answer', metadata: { source: 'import' } });
    // A follower of the thread sees it as two durable events of the log.
    const followed = await follower.readUntil((event) => event.event === 'message-end');
    follower.abort();
    expect(followed.map((event) => `${event.id} ${event.event}`)).toEqual(['1 message-start', '2 message-end']);
    await expectStoredMatchesStream(thread, followed);
    expect(
      (await httpJson(base, thread.key, 'GET', `/api/v1/flows/executions?agent_id=${thread.agentId}`)).body.total_count,
    ).toBe(0);
  });
});

describe('GET …/stream resume', () => {
  const W = 40;
  // Ids of this run: 1-4 user message and run start, 4.1-4.3 deltas, 5-6 tool call, 6.1-6.4 deltas, 7-8 end.
  const slowToolRun = (): ScriptAction[][] => [
    [
      delta('Let '),
      wait(W),
      delta('me '),
      wait(W),
      delta('check. '),
      wait(W),
      ...callTools({ name: 'calculator', input: { expression: '2+2' } }),
    ],
    [delta('The '), wait(W), delta('answer '), wait(W), delta('is '), wait(150), delta('4.'), stop],
  ];
  const EXPECTED_IDS = ['1', '2', '3', '4', '4.1', '4.2', '4.3', '5', '6', '6.1', '6.2', '6.3', '6.4', '7', '8'];

  const header = (cut: string) => ({ headers: { 'Last-Event-ID': cut } });
  it.each([
    { cut: '4.2', how: 'Last-Event-ID of a delta', resume: header },
    { cut: '6.3', how: 'Last-Event-ID of a delta after a tool call', resume: header },
    { cut: '5', how: 'Last-Event-ID of a durable event', resume: header },
    { cut: '4', how: 'Last-Event-ID just before the first delta', resume: header },
    { cut: '4.3', how: '?after= of a delta', resume: (cut: string) => ({ query: `?after=${cut}` }) },
    {
      cut: '6.1',
      how: 'Last-Event-ID winning over ?after=',
      resume: (cut: string) => ({ query: '?after=1', headers: { 'last-event-id': cut } }),
    },
  ])('a follower dropped after $cut and resumed ($how) gets every event exactly once', async ({ cut, resume }) => {
    const modelId = model(slowToolRun());
    const thread = await newThread({ model: modelId, tools: ['calculator'] });
    const reference = await follow(thread);
    const interrupted = await follow(thread);
    const posted = httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'what is 2+2?',
    });

    const before = await interrupted.readUntil((event) => event.id === cut);
    interrupted.abort();
    const resumed = await follow(thread, resume(cut));
    expect(resumed.status).toBe(200);
    // The follower is back while the run is still going: the rest arrives partly replayed, partly live.
    expect(context.parley.runtime.activeRunCount).toBe(1);
    const after = await resumed.readUntil((event) => event.event === 'run-end');
    resumed.abort();
    const all = await reference.readUntil((event) => event.event === 'run-end');
    reference.abort();

    expect(all.map((event) => event.id)).toEqual(EXPECTED_IDS);
    expect(before.at(-1)!.id).toBe(cut);
    expect(frames([...before, ...after]), 'no gap, no duplicate').toEqual(frames(all));

    const reply = await posted;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(all.at(-1)!.data.message);
    expect(reply.body.content).toBe('Let me check. The answer is 4.');
    await expectStoredMatchesStream(thread, all);
    await expectServerStreamsClosed();
  });

  it('?after=0 replays the whole log in order; a later resume from a delta id still works after the run', async () => {
    const modelId = model([say('First reply.'), say('Second reply here.')]);
    const thread = await newThread({ model: modelId, tools: [] });
    const reference = await follow(thread);
    for (const content of ['one', 'two']) {
      const reply = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
        role: 'user',
        content,
      });
      expect(reply.status).toBe(200);
    }
    const runEnds = (events: SseEvent[]) => events.filter((event) => event.event === 'run-end').length;
    const live: SseEvent[] = [];
    while (runEnds(live) < 2) live.push(...(await reference.readUntil((event) => event.event === 'run-end')));
    reference.abort();
    expect(live.map((event) => event.id)).toEqual([
      ...['1', '2', '3', '4', '4.1', '4.2', '5', '6'],
      ...['7', '8', '9', '10', '10.1', '10.2', '10.3', '11', '12'],
    ]);

    const replay = await follow(thread, { query: '?after=0' });
    const replayed: SseEvent[] = [];
    while (runEnds(replayed) < 2) replayed.push(...(await replay.readUntil((event) => event.event === 'run-end')));
    // Nothing more is sent once the log is exhausted: the follower waits for new events.
    await expect(replay.next(150)).rejects.toThrow(/timed out/);
    replay.abort();
    expect(frames(replayed)).toEqual(frames(live));

    // Resuming from a delta of the finished first run replays the rest from the buffer and the store.
    const resumed = await follow(thread, { headers: { 'Last-Event-ID': '4.1' } });
    const rest: SseEvent[] = [];
    while (runEnds(rest) < 2) rest.push(...(await resumed.readUntil((event) => event.event === 'run-end')));
    resumed.abort();
    expect(frames(rest)).toEqual(frames(live.slice(live.findIndex((event) => event.id === '4.1') + 1)));

    // Without Last-Event-ID or ?after only new events come.
    const fresh = await follow(thread);
    await expect(fresh.next(150)).rejects.toThrow(/timed out/);
    fresh.abort();

    await expectStoredMatchesStream(thread, live);
    await expectServerStreamsClosed();
  });

  it.each(['abc', '4.', '.4', '-1', '1.2.3', '4,1', '1e3', '9999999999999999'])(
    'a malformed Last-Event-ID %j is a 422',
    async (id) => {
      const thread = await newThread({ model: 'demo' });
      const connection = await follow(thread, { headers: { 'Last-Event-ID': id } });
      expect(connection.status).toBe(422);
      expect(connection.header('content-type')).toBe('application/json; charset=utf-8');
      expect(connection.body).toEqual({
        detail: [
          {
            loc: ['header', 'last-event-id'],
            msg: 'Last-Event-ID must be an event id such as 42 or 42.7',
            type: 'value_error',
          },
        ],
        code: 'validation_error',
        request_id: connection.header('x-request-id'),
      });
    },
  );

  it('a malformed ?after= is a 422 at the query', async () => {
    const thread = await newThread({ model: 'demo' });
    const connection = await follow(thread, { query: '?after=abc' });
    expect(connection.status).toBe(422);
    expect(connection.body.code).toBe('validation_error');
    expect(connection.body.detail.map((issue: { loc: unknown }) => issue.loc)).toEqual([['query', 'after']]);
  });

  it('a resume past the end of the log is a 422, not a stream that silently skips what comes (issue 7, L1)', async () => {
    const thread = await newThread({ model: 'demo' });
    const posted = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'hello',
    });
    expect(posted.status).toBe(200);
    const log = await replayLog(thread, 6);
    const lastSeq = Math.max(...log.map((event) => idParts(event.id)[0]));
    for (const [request, loc] of [
      [{ headers: { 'Last-Event-ID': '999999999999999' } }, ['header', 'last-event-id']],
      [{ query: `?after=${lastSeq + 1}` }, ['query', 'after']],
    ] as const) {
      const connection = await follow(thread, request);
      expect(connection.status).toBe(422);
      expect(connection.body.detail).toEqual([
        {
          loc,
          msg: expect.stringContaining(`past the end of this thread's log (its last event is ${lastSeq})`),
          type: 'value_error',
        },
      ]);
    }
    // The log's own end (a delta of its last event included) is still a place to resume from.
    const atEnd = await follow(thread, { query: `?after=${lastSeq}.3` });
    expect(atEnd.status).toBe(200);
    atEnd.abort();
  });
});

describe('a client that disconnects', () => {
  it('does not stop the run: it completes and is stored', async () => {
    const modelId = model([
      [delta('One '), wait(60), delta('two '), wait(60), delta('three '), wait(60), delta('four.'), stop],
    ]);
    const thread = await newThread({ model: modelId, tools: [] });
    const stream = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
      key: thread.key,
      body: { role: 'user', content: 'count' },
    });
    expect(stream.status).toBe(200);
    const seen = await stream.readUntil((event) => event.event === 'text-delta');
    stream.abort();
    const runStart = seen.find((event) => event.event === 'run-start')!;
    const runId = runStart.data.run_id as string;
    expect(seen.map((event) => `${event.id} ${event.event}`)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '4.1 text-delta',
    ]);
    // The stream is gone before the run is done.
    expect((await storedExecution(thread, runId)).status).toBe('running');
    await expectServerStreamsClosed();

    const execution = await pollUntil(
      async () => {
        const current = await storedExecution(thread, runId);
        return current.status === 'running' ? undefined : current;
      },
      { what: 'the run to finish' },
    );
    expect(execution).toMatchObject({
      status: 'completed',
      error_message: null,
      final_output: { content: 'One two three four.' },
    });
    const messages = await storedMessages(thread);
    expect(messages.map((message) => [message.role, message.content, message.metadata.status ?? null])).toEqual([
      ['user', 'count', null],
      ['assistant', 'One two three four.', 'completed'],
    ]);
    // The whole run, as the log has it, is what is stored; what the client saw is its start.
    const log = await replayLog(thread, 6);
    expect(frames(log.slice(0, seen.length))).toEqual(frames(seen));
    expect(log.map((event) => event.id)).toEqual(['1', '2', '3', '4', '4.1', '4.2', '4.3', '4.4', '5', '6']);
    await expectStoredMatchesStream(thread, log);
  });
});

describe('an error after the headers', () => {
  it('becomes an in-band error event and the stream ends', async () => {
    const thread = await newThread({ model: 'demo' });
    // The event store fails once the stream has started (its headers are already sent).
    const spy = vi.spyOn(context.store.events, 'listAfter').mockRejectedValueOnce(new Error('database went away'));
    try {
      const { status, headers, text } = await readRaw(`${base}${threadPath(thread)}/stream?after=0`, {
        key: thread.key,
      });
      expect(status).toBe(200);
      expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(text).toBe(
        OPENING +
          'event: stream-error\ndata: {"type":"stream-error","code":"internal_error","detail":"Internal Server Error"}\n\n',
      );
      expect(spy).toHaveBeenCalledTimes(1);
      // The client sees only the generic text; the operator gets the cause, with the request id.
      const requestId = headers.get('x-request-id')!;
      const logged = context.logs
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.reqId === requestId && entry.level === 50);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({
        msg: 'stream failed after its headers were sent',
        err: { message: 'database went away' },
      });
    } finally {
      spy.mockRestore();
    }
    await expectServerStreamsClosed();
  });
});

describe('?format=ai-sdk', () => {
  it('serves the Vercel AI SDK UI message stream, which the AI SDK client reads into the stored reply', async () => {
    const modelId = model([callTools({ name: 'calculator', input: { expression: '6*7' } }), say('It is 42.')]);
    const thread = await newThread({ model: modelId, tools: ['calculator'] });
    const { status, headers, text } = await readRaw(`${base}${threadPath(thread)}/messages/stream?format=ai-sdk`, {
      key: thread.key,
      body: { role: 'user', content: 'six times seven?' },
    });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(headers.get('x-accel-buffering')).toBe('no');
    expect(text.startsWith(OPENING)).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const raw = text.slice(OPENING.length, -2).split('\n\n');
    for (const chunk of raw.slice(0, -1)) expect(chunk).toMatch(/^(id: \d+(\.\d+)?\n)?data: \{[^\n]+\}$/);
    expect(raw.at(-1)).toBe('data: [DONE]');

    const events = parseEvents(text);
    const messages = await storedMessages(thread);
    const assistant = messages[1];
    const id = assistant.id as string;
    const runId = (events[0]!.data as { messageMetadata: { run_id: string } }).messageMetadata.run_id;
    expect(runId).toMatch(UUID);
    const textId = `${id}-text-1`;
    // Each model call is a step of its own; each log event's chunks end with the event's id, once.
    expect(events.map((event) => [event.id, event.data])).toEqual([
      ['3', { type: 'start', messageId: id, messageMetadata: { run_id: runId } }],
      [undefined, { type: 'start-step' }],
      [
        '5',
        { type: 'tool-input-available', toolCallId: 'call_1', toolName: 'calculator', input: { expression: '6*7' } },
      ],
      ['6', { type: 'tool-output-available', toolCallId: 'call_1', output: { expression: '6*7', result: 42 } }],
      [undefined, { type: 'finish-step' }],
      [undefined, { type: 'start-step' }],
      [undefined, { type: 'text-start', id: textId }],
      ['6.1', { type: 'text-delta', id: textId, delta: 'It ' }],
      ['6.2', { type: 'text-delta', id: textId, delta: 'is ' }],
      ['6.3', { type: 'text-delta', id: textId, delta: '42.' }],
      ['7', { type: 'text-end', id: textId }],
      [undefined, { type: 'finish-step' }],
      [
        '8',
        {
          type: 'finish',
          finishReason: 'stop',
          messageMetadata: { run_id: runId, status: 'completed', finish_reason: 'stop' },
        },
      ],
      [undefined, '[DONE]'],
    ]);
    const ids = events.flatMap((event) => (event.id === undefined ? [] : [event.id]));
    expect(new Set(ids).size).toBe(ids.length);

    // Stored = streamed: the text, the tool call and its result.
    expect(assistant).toMatchObject({ role: 'assistant', content: 'It is 42.', metadata: { status: 'completed' } });
    expect(assistant.tool_calls).toMatchObject([
      {
        tool_name: 'calculator',
        arguments: { expression: '6*7' },
        result: { expression: '6*7', result: 42 },
        error: null,
      },
    ]);
    await expectStoredMatchesStream(thread, await replayLog(thread, 8));
  });

  it('works with the AI SDK’s own chat transport (useChat) and message reader', async () => {
    const modelId = model([callTools({ name: 'calculator', input: { expression: '2*3' } }), say('That makes 6.')]);
    const thread = await newThread({ model: modelId, tools: ['calculator'] });
    const transport = new DefaultChatTransport<UIMessage>({
      api: `${base}${threadPath(thread)}/messages/stream?format=ai-sdk`,
      headers: { 'x-api-key': thread.key },
      prepareSendMessagesRequest: ({ messages }) => {
        const last = messages.at(-1)!;
        const content = last.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
        return { body: { role: 'user', content } };
      },
    });
    const chunkStream = await transport.sendMessages({
      chatId: thread.threadId,
      messageId: undefined,
      trigger: 'submit-message',
      abortSignal: AbortSignal.timeout(5_000),
      messages: [{ id: 'local-1', role: 'user', parts: [{ type: 'text', text: 'two times three?' }] }],
    });
    const { chunks, last } = await readChat(chunkStream);

    const stored = (await storedMessages(thread))[1];
    expect(chunks.map((chunk) => chunk.type)).toEqual(TOOL_THEN_ANSWER_CHUNK_TYPES);
    expect(last).toMatchObject({
      id: stored.id,
      role: 'assistant',
      metadata: { status: 'completed', finish_reason: 'stop' },
      parts: [
        { type: 'step-start' },
        {
          type: 'tool-calculator',
          toolCallId: 'call_1',
          state: 'output-available',
          input: { expression: '2*3' },
          output: { expression: '2*3', result: 6 },
        },
        { type: 'step-start' },
        { type: 'text', text: 'That makes 6.', state: 'done' },
      ],
    });
    expect(stored).toMatchObject({
      content: 'That makes 6.',
      tool_calls: [{ tool_name: 'calculator', result: { expression: '2*3', result: 6 } }],
    });
    await expectStoredMatchesStream(thread, await replayLog(thread, 8));
  });
});

describe('stream tenancy', () => {
  it('another organisation’s key gets 404 and no events; no key gets 401', async () => {
    const W = 50;
    const modelId = model([
      [delta('Secret '), wait(W), delta('answer '), wait(W), delta('for '), wait(W), delta('A.'), stop],
    ]);
    const owner = await newThread({ model: modelId, tools: [] });
    const intruder = await context.newOrganization();
    const intruderApi = client(context, intruder.key);
    const intruderAgent = await intruderApi.createAgent({ configuration: { model: 'demo' } });

    const ownerStream = await SseConnection.open(`${base}${threadPath(owner)}/messages/stream`, {
      key: owner.key,
      body: { role: 'user', content: 'private question' },
    });
    await ownerStream.readUntil((event) => event.event === 'text-delta');

    // While A's run streams: B follows A's thread, replays it, and posts into it.
    const attempts: { name: string; url: string; body?: unknown; key: string | null; status: number; code: string }[] =
      [
        {
          name: 'follow',
          url: `${threadPath(owner)}/stream`,
          key: intruder.key,
          status: 404,
          code: 'thread_not_found',
        },
        {
          name: 'replay',
          url: `${threadPath(owner)}/stream?after=0`,
          key: intruder.key,
          status: 404,
          code: 'thread_not_found',
        },
        {
          name: 'resume',
          url: `${threadPath(owner)}/stream`,
          key: intruder.key,
          status: 404,
          code: 'thread_not_found',
        },
        {
          name: 'post into A’s agent and thread',
          url: `${threadPath(owner)}/messages/stream`,
          body: { role: 'user', content: 'let me in' },
          key: intruder.key,
          status: 404,
          code: 'agent_not_found',
        },
        {
          name: 'post with B’s agent into A’s thread',
          url: `/api/v1/chat/${intruderAgent.id}/threads/${owner.threadId}/messages/stream`,
          body: { role: 'user', content: 'let me in' },
          key: intruder.key,
          status: 404,
          code: 'thread_not_found',
        },
        {
          name: 'post an imported message with B’s agent into A’s thread',
          url: `/api/v1/chat/${intruderAgent.id}/threads/${owner.threadId}/messages/stream`,
          body: { role: 'assistant', content: 'planted' },
          key: intruder.key,
          status: 404,
          code: 'thread_not_found',
        },
        {
          name: 'follow without a key',
          url: `${threadPath(owner)}/stream?after=0`,
          key: null,
          status: 401,
          code: 'invalid_api_key',
        },
        {
          name: 'post without a key',
          url: `${threadPath(owner)}/messages/stream`,
          body: { role: 'user', content: 'anonymous' },
          key: null,
          status: 401,
          code: 'invalid_api_key',
        },
      ];
    for (const attempt of attempts) {
      const connection = await SseConnection.open(`${base}${attempt.url}`, {
        key: attempt.key,
        ...(attempt.body === undefined ? {} : { body: attempt.body }),
        ...(attempt.name === 'resume' ? { headers: { 'Last-Event-ID': '4' } } : {}),
      });
      expect({
        name: attempt.name,
        status: connection.status,
        type: connection.header('content-type'),
        body: connection.body,
      }).toEqual({
        name: attempt.name,
        status: attempt.status,
        type: 'application/json; charset=utf-8',
        body: { detail: expect.any(String), code: attempt.code, request_id: connection.header('x-request-id') },
      });
      expect(await connection.next()).toBeNull();
      expect(connection.received).toEqual([]);
    }

    const rest = await ownerStream.readToEnd();
    const all = [...ownerStream.received];
    expect(rest.at(-1)!.event).toBe('run-end');
    expect(all.map((event) => event.id)).toEqual(['1', '2', '3', '4', '4.1', '4.2', '4.3', '4.4', '5', '6']);
    const { messages } = await expectStoredMatchesStream(owner, all);
    expect(messages.map((message) => message.content)).toEqual(['private question', 'Secret answer for A.']);
    expect((await intruderApi.get('/api/v1/flows/executions')).body.total_count).toBe(0);
    await expectServerStreamsClosed();
  });
});
