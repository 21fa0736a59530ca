import { DefaultChatTransport, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { safeValidateTypes } from '@ai-sdk/provider-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/models/model-port.js';
import { readChat, TOOL_THEN_ANSWER_CHUNK_TYPES } from '../helpers/ai-sdk-chat.js';
import { callTools, growingRegistry, say, type ScriptAction } from '../fixtures/scripted-model.js';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { UUID_PATTERN as UUID } from '../helpers/ids.js';
import {
  SseConnection,
  httpJson,
  parseEvents,
  pollUntil,
  readRaw,
  storedMessages,
  threadPath,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * The AI SDK's chat protocol as its own client speaks it: `DefaultChatTransport` unchanged
 * (`api` = `…/ui-messages`, chat id = thread id) sends and resumes; its stream parser (which
 * validates every chunk against the SDK's schema) and `readUIMessageStream` read what Parley
 * sends into the message Parley stored.
 */

const models = growingRegistry('ui-messages');
const model = (steps: ScriptAction[][]): string => models.script(steps).id;
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

function newThread(configuration: Record<string, unknown>): Promise<ThreadRef> {
  return createThreadRef(context, { base, configuration });
}

function transportOf(thread: ThreadRef, key = thread.key): DefaultChatTransport<UIMessage> {
  return new DefaultChatTransport<UIMessage>({
    api: `${base}/api/v1/chat/${thread.agentId}/ui-messages`,
    headers: { 'x-api-key': key },
  });
}

function userMessage(text: string, id = 'local-1'): UIMessage {
  return { id, role: 'user', parts: [{ type: 'text', text }] };
}

function send(thread: ThreadRef, messages: UIMessage[]): Promise<ReadableStream<UIMessageChunk>> {
  return transportOf(thread).sendMessages({
    chatId: thread.threadId,
    messageId: undefined,
    trigger: 'submit-message',
    abortSignal: AbortSignal.timeout(10_000),
    messages,
  });
}

describe('POST …/ui-messages with DefaultChatTransport as shipped', () => {
  it('adds the last message and streams the reply: one step per model call, the stored reply rebuilt', async () => {
    const modelId = model([callTools({ name: 'calculator', input: { expression: '2*3' } }), say('That makes 6.')]);
    const thread = await newThread({ model: modelId, tools: ['calculator'] });
    // The chat's whole history as the SDK sends it; only the last message is new.
    const history: UIMessage[] = [
      userMessage('an earlier question', 'local-0'),
      { id: 'reply-0', role: 'assistant', parts: [{ type: 'text', text: 'an earlier answer' }] },
    ];
    const { chunks, last } = await readChat(await send(thread, [...history, userMessage('two times three?')]));

    const [user, assistant] = await storedMessages(thread);
    expect(user).toMatchObject({ role: 'user', content: 'two times three?', metadata: { ui_message_id: 'local-1' } });
    expect(assistant).toMatchObject({ role: 'assistant', content: 'That makes 6.', metadata: { status: 'completed' } });
    expect(chunks.map((chunk) => chunk.type)).toEqual(TOOL_THEN_ANSWER_CHUNK_TYPES);
    const runId =
      assistant.metadata.flow_execution_id ??
      (chunks[0] as { messageMetadata: { run_id: string } }).messageMetadata.run_id;
    expect(last).toEqual({
      id: assistant.id,
      role: 'assistant',
      metadata: { run_id: runId, status: 'completed', finish_reason: 'stop' },
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
    expect(runId).toMatch(UUID);
  });

  it('sends SSE frames whose ids are unique and every chunk valid against the SDK’s chunk schema', async () => {
    const thread = await newThread({
      model: model([callTools({ name: 'calculator', input: { expression: '1+1' } }), say('Two.')]),
    });
    const { status, headers, text } = await readRaw(`${base}/api/v1/chat/${thread.agentId}/ui-messages`, {
      key: thread.key,
      body: { id: thread.threadId, messages: [userMessage('one plus one?')], trigger: 'submit-message' },
    });
    expect(status).toBe(200);
    expect(headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const events = parseEvents(text);
    expect(events.at(-1)!.data).toBe('[DONE]');
    const ids = events.flatMap((event) => (event.id === undefined ? [] : [event.id]));
    expect(ids.length).toBeGreaterThan(4);
    expect(new Set(ids).size).toBe(ids.length);
    for (const event of events.slice(0, -1)) {
      const checked = await safeValidateTypes({ value: event.data, schema: uiMessageChunkSchema });
      expect(checked.success, JSON.stringify(event.data)).toBe(true);
    }
  });

  it('says a failed run as an error chunk, which the SDK’s reader raises', async () => {
    const thread = await newThread({
      model: model([
        [delta('Half '), { type: 'throw', error: new ModelError('provider_error', 'the vendor fell over') }],
      ]),
    });
    const stream = await send(thread, [userMessage('go')]);
    await expect(readChat(stream)).rejects.toThrow('the vendor fell over');
    const [, assistant] = await storedMessages(thread);
    expect(assistant.metadata).toMatchObject({ status: 'failed' });
  });

  it('answers bad bodies with 422 at the field, unknown threads with 404, and stores nothing', async () => {
    const thread = await newThread({ model: 'demo' });
    const other = await newThread({ model: 'demo' });
    const post = (body: unknown, key = thread.key) =>
      httpJson(base, key, 'POST', `/api/v1/chat/${thread.agentId}/ui-messages`, body);
    const cases: [unknown, number, unknown][] = [
      [
        { id: thread.threadId, messages: [userMessage('again')], trigger: 'regenerate-message' },
        422,
        ['body', 'trigger'],
      ],
      [
        {
          id: thread.threadId,
          messages: [{ id: 'a', role: 'assistant', parts: [{ type: 'text', text: 'hi' }] }],
          trigger: 'submit-message',
        },
        422,
        ['body', 'messages', 0, 'role'],
      ],
      [
        {
          id: thread.threadId,
          messages: [
            {
              id: 'u',
              role: 'user',
              parts: [
                { type: 'text', text: 'see' },
                { type: 'file', url: 'data:,x', mediaType: 'text/plain' },
              ],
            },
          ],
          trigger: 'submit-message',
        },
        422,
        ['body', 'messages', 0, 'parts', 1],
      ],
      [
        { id: thread.threadId, messages: [userMessage('   ')], trigger: 'submit-message' },
        422,
        ['body', 'messages', 0, 'parts'],
      ],
      [
        { id: thread.threadId, messages: [userMessage('x'.repeat(32_769))], trigger: 'submit-message' },
        422,
        ['body', 'messages', 0, 'parts'],
      ],
      [{ id: thread.threadId, messages: [], trigger: 'submit-message' }, 422, ['body', 'messages']],
      [{ id: 'not-a-thread', messages: [userMessage('hi')], trigger: 'submit-message' }, 422, ['body', 'id']],
    ];
    for (const [body, status, loc] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.detail[0].loc, JSON.stringify(body)).toEqual(loc);
    }
    // A thread of another agent, and one of another organisation: 404, as if it did not exist.
    const elsewhere = await post({ id: other.threadId, messages: [userMessage('hi')], trigger: 'submit-message' });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.code).toBe('thread_not_found');
    const stranger = await context.newOrganization();
    const foreign = await post(
      { id: thread.threadId, messages: [userMessage('hi')], trigger: 'submit-message' },
      stranger.key,
    );
    expect(foreign.status).toBe(404);
    expect(await storedMessages(thread)).toEqual([]);
    expect(await storedMessages(other)).toEqual([]);
  });
});

describe('GET …/ui-messages/{thread_id}/stream (the transport’s resume)', () => {
  it('answers 204 when no run is active, so useChat({resume: true}) settles at once', async () => {
    const thread = await newThread({ model: 'demo' });
    expect(await transportOf(thread).reconnectToStream({ chatId: thread.threadId })).toBeNull();
    const raw = await httpJson(
      base,
      thread.key,
      'GET',
      `/api/v1/chat/${thread.agentId}/ui-messages/${thread.threadId}/stream`,
    );
    expect(raw.status).toBe(204);
    expect(raw.body).toBeUndefined();
    const missing = await httpJson(
      base,
      thread.key,
      'GET',
      `/api/v1/chat/${thread.agentId}/ui-messages/${crypto.randomUUID()}/stream`,
    );
    expect(missing.status).toBe(404);
    expect(context.parley.sse.size).toBe(0);
  });

  it('joined mid-reply, rebuilds the reply from its start into the stored message', async () => {
    const W = 40;
    const modelId = model([
      callTools({ name: 'calculator', input: { expression: '3*3' } }),
      [delta('Nine '), wait(W), delta('it '), wait(W), delta('is, '), wait(W), delta('surely.'), stop],
    ]);
    const thread = await newThread({ model: modelId, tools: ['calculator'] });
    // Someone else's client sends; this one (say, after a reload) resumes once text is flowing.
    const sender = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
      key: thread.key,
      body: { role: 'user', content: 'three times three?' },
    });
    await sender.readUntil((event) => event.event === 'text-delta');
    const resumed = await transportOf(thread).reconnectToStream({ chatId: thread.threadId });
    expect(resumed).not.toBeNull();
    const { chunks, last } = await readChat(resumed!);
    await sender.readUntil((event) => event.event === 'run-end');

    const [, assistant] = await storedMessages(thread);
    expect(chunks[0]).toMatchObject({ type: 'start', messageId: assistant.id });
    expect(last.id).toBe(assistant.id);
    expect(last.parts).toEqual([
      { type: 'step-start' },
      expect.objectContaining({ type: 'tool-calculator', state: 'output-available', input: { expression: '3*3' } }),
      { type: 'step-start' },
      { type: 'text', text: 'Nine it is, surely.', state: 'done' },
    ]);
    expect(assistant.content).toBe('Nine it is, surely.');
    await pollUntil(() => (context.parley.sse.size === 0 ? true : undefined), { what: 'the streams to close' });
  });
});

describe('in-band failures in the AI SDK format', () => {
  it('a revoked key ends the stream with an error chunk and [DONE], not a parley stream-error', async () => {
    const thread = await newThread({ model: model([[delta('Never '), { type: 'hang' }]]) });
    const created = await httpJson(base, thread.key, 'POST', '/api/v1/api-keys', {
      scopes: ['read', 'write'],
      name: 'chat',
    });
    expect(created.status).toBe(200);
    const connection = await SseConnection.open(`${base}/api/v1/chat/${thread.agentId}/ui-messages`, {
      key: created.body.key,
      body: { id: thread.threadId, messages: [userMessage('hang on')], trigger: 'submit-message' },
    });
    await connection.readUntil((event) => (event.data as { type?: string }).type === 'text-delta');
    const revoked = await httpJson(base, thread.key, 'DELETE', `/api/v1/api-keys/${created.body.api_key.id}`);
    expect(revoked.status).toBe(200);
    const rest = await connection.readToEnd();
    expect(rest.map((event) => event.data)).toEqual([
      { type: 'error', errorText: 'key_revoked: The API key of this stream was revoked or has expired.' },
      '[DONE]',
    ]);
    expect(rest.every((event) => event.event === undefined)).toBe(true);
  });
});
