import crypto from 'node:crypto';
import { HttpAgent, verifyEvents, type AgentSubscriber } from '@ag-ui/client';
import { EventType, type BaseEvent, type Message } from '@ag-ui/core';
import { EventSchema } from '@ag-ui/core/schemas';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelError } from '../../src/models/model-port.js';
import { callTools, growingRegistry, say, type ScriptAction } from '../fixtures/scripted-model.js';
import { client, createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { runExample } from '../helpers/examples.js';
import { UUID_V7_PATTERN } from '../helpers/ids.js';
import { loadSpec } from '../helpers/routes.js';
import {
  httpJson,
  pollUntil,
  readRaw,
  storedExecution,
  storedMessages,
  threadPath,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * The AG-UI endpoint as `@ag-ui/client`'s own `HttpAgent` uses it, unchanged, over real HTTP:
 * every event sequence it reads is checked again with `verifyEvents` and the protocol's schemas,
 * and against what the API then says is stored.
 */

const models = growingRegistry('ag-ui');
const delta = (text: string): ScriptAction => ({ type: 'text-delta', text });
const hang: ScriptAction = { type: 'hang' };

let context: TestContext;
let base: string;
/** What `@ag-ui/client` says on the console: it warns about every field it strips. */
let warnings: ReturnType<typeof vi.spyOn>;
let errors: ReturnType<typeof vi.spyOn>;
beforeAll(async () => {
  context = await createTestContext({ models: models.registry });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});
beforeEach(() => {
  warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

function newThread(configuration: Record<string, unknown>): Promise<ThreadRef & { organizationId: string }> {
  return createThreadRef(context, { base, configuration });
}

function agUiUrl(thread: Pick<ThreadRef, 'agentId'>): string {
  return `${base}/api/v1/chat/${thread.agentId}/ag-ui`;
}

/** An HttpAgent for the thread, configured as a client would: URL, key header and the thread's id. */
function agentFor(thread: ThreadRef, key = thread.key): HttpAgent {
  return new HttpAgent({ url: agUiUrl(thread), headers: { 'x-api-key': key }, threadId: thread.threadId });
}

/** Adds the user's message and runs the agent; every event the client read is collected. */
async function runTurn(agent: HttpAgent, content: string, subscriber: AgentSubscriber = {}) {
  const events: BaseEvent[] = [];
  const runErrors: BaseEvent[] = [];
  agent.addMessage({ id: crypto.randomUUID(), role: 'user', content });
  const outcome = await agent.runAgent(
    {},
    {
      ...subscriber,
      onEvent: ({ event }) => {
        events.push(event);
      },
      onRunErrorEvent: (parameters) => {
        runErrors.push(parameters.event);
        return subscriber.onRunErrorEvent?.(parameters);
      },
    },
  );
  return { ...outcome, events, runErrors };
}

/** The events again through the client's own verifier, and each through the protocol's schema. */
async function expectValidSequence(events: BaseEvent[]): Promise<void> {
  const verified = await lastValueFrom(from(events).pipe(verifyEvents(), toArray()));
  expect(verified).toEqual(events);
  for (const event of events) expect(EventSchema.parse(event), event.type).toEqual(event);
  // Nothing the server sent was stripped or dropped by the client's enforcement stage.
  expect(warnings.mock.calls).toEqual([]);
}

/** A streamed text message, its content events counted once (see `shape`). */
const TEXT_MESSAGE = [EventType.TEXT_MESSAGE_START, EventType.TEXT_MESSAGE_CONTENT, EventType.TEXT_MESSAGE_END];

const types = (events: BaseEvent[]) => events.map((event) => event.type);

/** The types with each run of TEXT_MESSAGE_CONTENT counted once, so a sequence reads whatever the wording. */
function shape(events: BaseEvent[]): string[] {
  return types(events).filter(
    (type, index, all) => type !== EventType.TEXT_MESSAGE_CONTENT || all[index - 1] !== EventType.TEXT_MESSAGE_CONTENT,
  );
}

function textOf(events: BaseEvent[], messageId: string): string {
  return events
    .filter(
      (event): event is BaseEvent & { messageId: string; delta: string } =>
        event.type === EventType.TEXT_MESSAGE_CONTENT,
    )
    .filter((event) => event.messageId === messageId)
    .map((event) => event.delta)
    .join('');
}

function only<T extends BaseEvent>(events: BaseEvent[], type: EventType): T {
  const found = events.filter((event) => event.type === type);
  expect(found, type).toHaveLength(1);
  return found[0] as T;
}

describe('a text turn with HttpAgent', () => {
  it('streams RUN_STARTED, one text message and RUN_FINISHED; the client holds what the API stored', async () => {
    const thread = await newThread({ model: 'demo', tools: [] });
    const agent = agentFor(thread);
    const { events, result, newMessages } = await runTurn(agent, 'Hello there');
    await expectValidSequence(events);
    expect(shape(events)).toEqual([EventType.RUN_STARTED, ...TEXT_MESSAGE, EventType.RUN_FINISHED]);

    const messages = await storedMessages(thread);
    expect(messages.map((message) => [message.role, message.content])).toEqual([
      ['user', 'Hello there'],
      ['assistant', expect.stringContaining('You said: "Hello there".')],
    ]);
    const reply = messages[1];
    const started = only<any>(events, EventType.RUN_STARTED);
    const runId = reply.metadata.run_id as string;
    expect(runId).toMatch(UUID_V7_PATTERN);
    // The client's ids are echoed; Parley's run and reply are named in metadata and the result.
    expect(started).toEqual({
      type: EventType.RUN_STARTED,
      threadId: thread.threadId,
      runId: expect.any(String),
      metadata: { parley: { run_id: runId, message_id: reply.id, model: 'demo' } },
    });
    const finished = only<any>(events, EventType.RUN_FINISHED);
    expect(finished).toEqual({
      type: EventType.RUN_FINISHED,
      threadId: thread.threadId,
      runId: started.runId,
      result: {
        run_id: runId,
        status: 'completed',
        finish_reason: 'stop',
        usage: reply.metadata.usage,
        message: reply,
      },
      usage: [
        {
          model: 'demo',
          inputTokens: reply.metadata.usage.input_tokens,
          outputTokens: reply.metadata.usage.output_tokens,
          totalTokens: reply.metadata.usage.total_tokens,
        },
      ],
    });
    expect(only(events, EventType.TEXT_MESSAGE_START)).toEqual({
      type: EventType.TEXT_MESSAGE_START,
      messageId: reply.id,
      role: 'assistant',
    });
    expect(textOf(events, reply.id)).toBe(reply.content);

    // What runAgent gives back is the stored reply, and the client's conversation matches the thread.
    expect(result).toEqual(finished.result);
    expect(newMessages).toEqual([{ id: reply.id, role: 'assistant', content: reply.content }]);
    expect(agent.messages.map((message) => [message.role, message.content])).toEqual([
      ['user', 'Hello there'],
      ['assistant', reply.content],
    ]);
    const execution = await storedExecution(thread, runId);
    expect(execution).toMatchObject({
      id: runId,
      status: 'completed',
      agent_id: thread.agentId,
      final_output: { content: reply.content, message_id: reply.id },
    });
    expect(errors.mock.calls).toEqual([]);
  });

  it('sends exact frames: a comment, then `data: <event JSON>` only, no id or event lines', async () => {
    const thread = await newThread({ model: models.script([say('Short answer.')]).id, tools: [] });
    const { status, headers, text } = await readRaw(agUiUrl(thread), {
      key: thread.key,
      headers: { accept: 'text/event-stream' },
      body: {
        threadId: thread.threadId,
        runId: 'run-1',
        messages: [{ id: 'message-1', role: 'user', content: 'Hi' }],
      },
    });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('x-accel-buffering')).toBe('no');
    expect(text.startsWith(': stream open\n\n')).toBe(true);
    const frames = text.slice(': stream open\n\n'.length).split('\n\n');
    expect(frames.pop()).toBe('');
    const events = frames.map((frame) => {
      expect(frame).toMatch(/^data: \{[^\n]+\}$/);
      return JSON.parse(frame.slice('data: '.length));
    });
    const [reply] = (await storedMessages(thread)).slice(1);
    expect(events).toEqual([
      {
        type: 'RUN_STARTED',
        threadId: thread.threadId,
        runId: 'run-1',
        metadata: { parley: { run_id: reply.metadata.run_id, message_id: reply.id, model: expect.any(String) } },
      },
      { type: 'TEXT_MESSAGE_START', messageId: reply.id, role: 'assistant' },
      { type: 'TEXT_MESSAGE_CONTENT', messageId: reply.id, delta: 'Short ' },
      { type: 'TEXT_MESSAGE_CONTENT', messageId: reply.id, delta: 'answer.' },
      { type: 'TEXT_MESSAGE_END', messageId: reply.id },
      {
        type: 'RUN_FINISHED',
        threadId: thread.threadId,
        runId: 'run-1',
        result: expect.objectContaining({ run_id: reply.metadata.run_id, message: reply }),
        usage: [expect.objectContaining({ inputTokens: 10, outputTokens: 5, totalTokens: 15 })],
      },
    ]);
    await expectValidSequence(events);
  });

  it('answers from the thread the server keeps: a second turn sends only its last message to the model', async () => {
    const scripted = models.script([say('First answer.'), say('Second answer.')]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const agent = agentFor(thread);
    await runTurn(agent, 'One');
    // The client's history may say anything: the stored thread is what the model is sent.
    agent.messages[1] = { ...agent.messages[1]!, content: 'rewritten by the client' } as Message;
    const second = await runTurn(agent, 'Two', {});
    await expectValidSequence(second.events);
    expect(
      scripted.requests[1]!.messages.map((message) => [message.role, 'content' in message && message.content]),
    ).toEqual([
      ['user', 'One'],
      ['assistant', 'First answer.'],
      ['user', 'Two'],
    ]);
    expect((await storedMessages(thread)).map((message) => message.content)).toEqual([
      'One',
      'First answer.',
      'Two',
      'Second answer.',
    ]);
  });

  it('takes a user message of text parts as their text, one part per line', async () => {
    const thread = await newThread({ model: 'demo', tools: [] });
    const response = await readRaw(agUiUrl(thread), {
      key: thread.key,
      body: {
        threadId: thread.threadId.toUpperCase(),
        runId: 'run-parts',
        messages: [
          {
            id: 'm1',
            role: 'user',
            content: [
              { type: 'text', text: 'First line' },
              { type: 'text', text: 'second line' },
            ],
          },
        ],
      },
    });
    expect(response.status).toBe(200);
    // The thread id is echoed as the client spelled it.
    expect(response.text).toContain(`"threadId":"${thread.threadId.toUpperCase()}"`);
    expect((await storedMessages(thread))[0]).toMatchObject({ role: 'user', content: 'First line\nsecond line' });
  });
});

describe('tool calls', () => {
  it('streams each built-in tool call as TOOL_CALL_START/ARGS/END and its TOOL_CALL_RESULT, inside the reply', async () => {
    const thread = await newThread({ model: 'demo', tools: ['calculator'] });
    const agent = agentFor(thread);
    const first = await runTurn(agent, 'Please calculate 17*23');
    await expectValidSequence(first.events);
    expect(shape(first.events)).toEqual([
      EventType.RUN_STARTED,
      EventType.TEXT_MESSAGE_START,
      EventType.TOOL_CALL_START,
      EventType.TOOL_CALL_ARGS,
      EventType.TOOL_CALL_END,
      EventType.TOOL_CALL_RESULT,
      EventType.TEXT_MESSAGE_CONTENT,
      EventType.TEXT_MESSAGE_END,
      EventType.RUN_FINISHED,
    ]);
    const reply = (await storedMessages(thread))[1];
    expect(reply.tool_calls).toEqual([
      expect.objectContaining({
        tool_name: 'calculator',
        arguments: { expression: '17*23' },
        result: { expression: '17*23', result: 391 },
        error: null,
      }),
    ]);
    const toolCallId = `${reply.id}:call_demo_1`;
    expect(first.events.filter((event) => event.type.startsWith('TOOL_CALL'))).toEqual([
      { type: EventType.TOOL_CALL_START, toolCallId, toolCallName: 'calculator', parentMessageId: reply.id },
      { type: EventType.TOOL_CALL_ARGS, toolCallId, delta: '{"expression":"17*23"}' },
      { type: EventType.TOOL_CALL_END, toolCallId },
      {
        type: EventType.TOOL_CALL_RESULT,
        messageId: `${toolCallId}:result`,
        toolCallId,
        content: '{"expression":"17*23","result":391}',
        role: 'tool',
      },
    ]);
    expect(textOf(first.events, reply.id)).toBe(reply.content);
    expect(reply.content).toBe("17*23 = 391. (Answered by Parley's offline demo model.)");

    // The client's conversation: the reply with its call, then the tool's message.
    expect(first.newMessages).toEqual([
      {
        id: reply.id,
        role: 'assistant',
        content: reply.content,
        toolCalls: [
          { id: toolCallId, type: 'function', function: { name: 'calculator', arguments: '{"expression":"17*23"}' } },
        ],
      },
      { id: `${toolCallId}:result`, role: 'tool', toolCallId, content: '{"expression":"17*23","result":391}' },
    ]);

    // The demo model names its calls call_demo_1 in every turn; the client still tells them apart.
    const second = await runTurn(agent, 'Now calculate 2+2');
    await expectValidSequence(second.events);
    const secondReply = (await storedMessages(thread))[3];
    const secondCallId = `${secondReply.id}:call_demo_1`;
    expect(second.newMessages.map((message) => message.id)).toEqual([secondReply.id, `${secondCallId}:result`]);
    expect(
      agent.messages.map((message) => [
        message.role,
        (message as { toolCalls?: { id: string }[] }).toolCalls?.map((call) => call.id) ?? null,
      ]),
    ).toEqual([
      ['user', null],
      ['assistant', [toolCallId]],
      ['tool', null],
      ['user', null],
      ['assistant', [secondCallId]],
      ['tool', null],
    ]);
    const execution = await storedExecution(thread, secondReply.metadata.run_id);
    expect(execution.steps.map((step: { step_type: string }) => step.step_type)).toEqual(['llm', 'tool', 'llm']);
  });

  it('gives a failing tool’s error text as the result content', async () => {
    const scripted = models.script([callTools({ name: 'calculator', input: { expression: '1/' } }), say('It failed.')]);
    const thread = await newThread({ model: scripted.id, tools: ['calculator'] });
    const { events } = await runTurn(agentFor(thread), 'Divide');
    await expectValidSequence(events);
    const reply = (await storedMessages(thread))[1];
    const error = reply.tool_calls[0].error as string;
    expect(error.length).toBeGreaterThan(0);
    expect(only<any>(events, EventType.TOOL_CALL_RESULT).content).toBe(error);
  });

  it('accepts the client’s frontend tools and does not offer them to the model (not supported yet)', async () => {
    const scripted = models.script([say('No tools for you.')]);
    const thread = await newThread({ model: scripted.id, tools: ['calculator'] });
    const agent = agentFor(thread);
    agent.addMessage({ id: 'u1', role: 'user', content: 'Confirm it' });
    const events: BaseEvent[] = [];
    await agent.runAgent(
      {
        tools: [{ name: 'confirm_with_user', description: 'Ask the user', parameters: { type: 'object' } }],
        context: [{ description: 'page', value: '/settings' }],
        forwardedProps: { anything: true },
      },
      { onEvent: ({ event }) => void events.push(event) },
    );
    await expectValidSequence(events);
    expect(types(events).at(-1)).toBe(EventType.RUN_FINISHED);
    expect(scripted.requests[0]!.tools.map((tool) => tool.name)).toEqual(['calculator']);
  });
});

describe('runs that do not complete', () => {
  it('ends a model failure with RUN_ERROR model_error, which HttpAgent hands its subscribers', async () => {
    const failure = new ModelError('provider_error', 'Upstream returned 500: overloaded');
    const scripted = models.script([[delta('Partial '), delta('reply'), { type: 'throw', error: failure }]]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const { events, runErrors, result } = await runTurn(agentFor(thread), 'go');
    await expectValidSequence(events);
    expect(shape(events)).toEqual([EventType.RUN_STARTED, ...TEXT_MESSAGE, EventType.RUN_ERROR]);
    const reply = (await storedMessages(thread))[1];
    expect(reply).toMatchObject({ content: 'Partial reply', metadata: { status: 'failed' } });
    const runError = {
      type: EventType.RUN_ERROR,
      message: 'Upstream returned 500: overloaded',
      code: 'model_error',
      metadata: {
        parley: {
          run_id: reply.metadata.run_id,
          status: 'failed',
          error: { code: 'model_error', message: 'Upstream returned 500: overloaded' },
          message: reply,
        },
      },
    };
    expect(events.at(-1)).toEqual(runError);
    expect(runErrors).toEqual([runError]);
    expect(result).toBeUndefined();
    expect(await storedExecution(thread, reply.metadata.run_id)).toMatchObject({
      status: 'failed',
      error_message: 'Upstream returned 500: overloaded',
    });
  });

  it('ends a run cancelled with the id from RUN_STARTED with RUN_FINISHED outcome cancelled', async () => {
    const scripted = models.script([[delta('Working '), hang]]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    let runId = '';
    let cancelled = 0;
    const { events } = await runTurn(agentFor(thread), 'Take your time', {
      onRunStartedEvent: ({ event }) => {
        runId = (event as any).metadata.parley.run_id;
      },
      onTextMessageContentEvent: async () => {
        cancelled = (await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`)).status;
      },
    });
    expect(cancelled).toBe(200);
    await expectValidSequence(events);
    const finished = only<any>(events, EventType.RUN_FINISHED);
    expect(finished.outcome).toEqual({ type: 'cancelled' });
    expect(finished.result).toMatchObject({ status: 'cancelled', finish_reason: 'cancelled' });
    expect((await storedMessages(thread))[1]).toMatchObject({ content: 'Working ', metadata: { status: 'cancelled' } });
  });

  it('ends the stream of a revoked key with RUN_ERROR key_revoked; the run goes on', async () => {
    const scripted = models.script([[delta('Working '), hang]]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const created = await httpJson(base, thread.key, 'POST', '/api/v1/api-keys', {
      scopes: ['write'],
      name: 'to revoke',
    });
    expect(created.status).toBe(200);
    let revoked = 0;
    const { events, runErrors } = await runTurn(agentFor(thread, created.body.key), 'Take your time', {
      onTextMessageContentEvent: async () => {
        revoked = (await httpJson(base, thread.key, 'DELETE', `/api/v1/api-keys/${created.body.api_key.id}`)).status;
      },
    });
    expect(revoked).toBe(200);
    await expectValidSequence(events);
    const keyRevoked = {
      type: EventType.RUN_ERROR,
      message: 'The API key of this stream was revoked or has expired.',
      code: 'key_revoked',
    };
    expect(shape(events)).toEqual([
      EventType.RUN_STARTED,
      EventType.TEXT_MESSAGE_START,
      EventType.TEXT_MESSAGE_CONTENT,
      EventType.RUN_ERROR,
    ]);
    expect(runErrors).toEqual([keyRevoked]);
    const runId = startedRunId(events);
    expect((await storedExecution(thread, runId)).status).toBe('running');
    const cancelled = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    await pollUntil(async () => ((await storedExecution(thread, runId)).status === 'cancelled' ? true : undefined));
  });
});

function startedRunId(events: BaseEvent[]): string {
  return only<any>(events, EventType.RUN_STARTED).metadata.parley.run_id as string;
}

describe('the stream ending early', () => {
  it('ends an open AG-UI stream with RUN_ERROR service_unavailable at shutdown', async () => {
    const scripted = models.script([[delta('Working '), hang]]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const { events, runErrors } = await runTurn(agentFor(thread), 'Take your time', {
      onTextMessageContentEvent: () => context.parley.sse.closeAll(),
    });
    await expectValidSequence(events);
    expect(runErrors).toEqual([
      {
        type: EventType.RUN_ERROR,
        message: 'The server is shutting down. The run goes on and its reply is stored: read it with GET …/messages.',
        code: 'service_unavailable',
      },
    ]);
    const runId = startedRunId(events);
    expect((await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`)).status).toBe(200);
    await pollUntil(async () => ((await storedExecution(thread, runId)).status === 'cancelled' ? true : undefined));
  });
});

/** A valid body for the thread, with the given changes. */
function runInput(thread: ThreadRef, changes: Record<string, unknown> = {}) {
  return {
    threadId: thread.threadId,
    runId: 'run-1',
    messages: [{ id: 'message-1', role: 'user', content: 'Hello' }],
    tools: [],
    context: [],
    state: {},
    forwardedProps: {},
    ...changes,
  };
}

const validation = (loc: (string | number)[], msg: string, type: string, response: { body: any }) => ({
  detail: [{ loc, msg, type }],
  code: 'validation_error',
  request_id: response.body.request_id,
});

describe('refused before anything is stored', () => {
  it('answers 422 at the field for input it cannot run, and stores nothing', async () => {
    const thread = await newThread({ model: 'demo', tools: [] });
    const api = client(context, thread.key);
    const url = `/api/v1/chat/${thread.agentId}/ag-ui`;
    const cases: [Record<string, unknown>, (string | number)[], string, string][] = [
      [
        {
          messages: [
            { id: 'm1', role: 'user', content: 'Hi' },
            { id: 'm2', role: 'assistant', content: 'Hello' },
          ],
        },
        ['body', 'messages', 1, 'role'],
        'The last message must be the user’s new turn (role user): the server keeps the thread’s history and answers that message',
        'value_error',
      ],
      [{ messages: [] }, ['body', 'messages'], 'List should have at least 1 items', 'too_short'],
      [
        {
          messages: [
            {
              id: 'm1',
              role: 'user',
              content: [
                { type: 'text', text: 'Look' },
                { type: 'image', source: { type: 'url', value: 'https://example.com/a.png' } },
              ],
            },
          ],
        },
        ['body', 'messages', 0, 'content', 1],
        'Only text parts ({"type": "text", "text": …}) are supported',
        'value_error',
      ],
      [
        { messages: [{ id: 'm1', role: 'user' }] },
        ['body', 'messages', 0, 'content'],
        'Input should be a valid string or a list of text parts',
        'string_type',
      ],
      [
        { messages: [{ id: 'm1', role: 'user', content: '' }] },
        ['body', 'messages', 0, 'content'],
        'String should have at least 1 character',
        'string_too_short',
      ],
      [
        { messages: [{ id: 'm1', role: 'user', content: 'x'.repeat(32_769) }] },
        ['body', 'messages', 0, 'content'],
        'String should have at most 32768 characters',
        'string_too_long',
      ],
      [{ threadId: 'not-a-uuid' }, ['body', 'threadId'], 'Input should be a valid UUID', 'uuid_parsing'],
      [{ runId: '' }, ['body', 'runId'], 'String should have at least 1 characters', 'string_too_short'],
    ];
    for (const [changes, loc, msg, type] of cases) {
      const response = await api.post(url, runInput(thread, changes));
      expect({ status: response.status, body: response.body }, JSON.stringify(loc)).toEqual({
        status: 422,
        body: validation(loc, msg, type, response),
      });
    }
    const { runId: _runId, ...withoutRunId } = runInput(thread);
    const missing = await api.post(url, withoutRunId);
    expect(missing.body).toEqual(validation(['body', 'runId'], 'Field required', 'missing', missing));
    expect(await storedMessages(thread)).toEqual([]);
  });

  it('answers 404 for a thread that is not the agent’s, or not the organisation’s, and leaves it alone', async () => {
    const mine = await newThread({ model: 'demo', tools: [] });
    const theirs = await newThread({ model: 'demo', tools: [] });
    const api = client(context, mine.key);
    const url = `/api/v1/chat/${mine.agentId}/ag-ui`;
    const notFound = (code: string, detail: string, response: { body: any }) => ({
      status: 404,
      body: { detail, code, request_id: response.body.request_id },
    });
    const otherAgent = await api.createAgent({ configuration: { model: 'demo' } });
    const otherAgentThread = await api.createThread(otherAgent.id);
    for (const threadId of [crypto.randomUUID(), theirs.threadId, otherAgentThread.id]) {
      const response = await api.post(url, runInput(mine, { threadId }));
      expect({ status: response.status, body: response.body }).toEqual(
        notFound('thread_not_found', 'Chat thread not found.', response),
      );
    }
    const foreignAgent = await api.post(`/api/v1/chat/${theirs.agentId}/ag-ui`, runInput(theirs));
    expect({ status: foreignAgent.status, body: foreignAgent.body }).toEqual(
      notFound('agent_not_found', 'Agent not found.', foreignAgent),
    );
    expect(await storedMessages(theirs)).toEqual([]);
    expect(await storedMessages({ ...mine, agentId: otherAgent.id, threadId: otherAgentThread.id })).toEqual([]);

    // HttpAgent fails the run with the answer's status and JSON body.
    const failed: unknown[] = [];
    const agent = new HttpAgent({ url: agUiUrl(mine), headers: { 'x-api-key': mine.key }, threadId: theirs.threadId });
    agent.addMessage({ id: 'm1', role: 'user', content: 'Hello' });
    await expect(agent.runAgent({}, { onRunFailed: ({ error }) => void failed.push(error) })).rejects.toMatchObject({
      status: 404,
      payload: { detail: 'Chat thread not found.', code: 'thread_not_found' },
    });
    expect(failed).toHaveLength(1);
  });

  it('answers 403 to a read-only key and 409 thread_busy while the thread’s run is active', async () => {
    const scripted = models.script([[delta('Working '), hang]]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const organization = client(context, thread.key);
    const readOnly = await httpJson(base, thread.key, 'POST', '/api/v1/api-keys', { scopes: ['read'] });
    const forbidden = await client(context, readOnly.body.key).post(
      `/api/v1/chat/${thread.agentId}/ag-ui`,
      runInput(thread),
    );
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('insufficient_scope');

    let busy: Awaited<ReturnType<typeof organization.post>> | undefined;
    let runId = '';
    let cancelled = 0;
    // Subscribers only record: an assertion failing inside one would not reach the test.
    await runTurn(agentFor(thread), 'Take your time', {
      onRunStartedEvent: ({ event }) => {
        runId = (event as any).metadata.parley.run_id;
      },
      onTextMessageContentEvent: async () => {
        busy = await organization.post(`/api/v1/chat/${thread.agentId}/ag-ui`, runInput(thread, { runId: 'other' }));
        cancelled = (await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`)).status;
      },
    });
    expect(cancelled).toBe(200);
    expect(busy!.status).toBe(409);
    expect(busy!.body).toEqual({
      detail: 'A reply is already being generated in this thread.',
      code: 'thread_busy',
      request_id: busy!.body.request_id,
    });
    expect((await storedMessages(thread)).map((message) => message.content)).toEqual(['Take your time', 'Working ']);
  });
});

describe('Idempotency-Key', () => {
  it('replays a completed run’s stored reply as JSON, and runs nothing again', async () => {
    const scripted = models.script([say('Only once.')]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const headers = { 'idempotency-key': 'ag-ui-once' };
    const first = await readRaw(agUiUrl(thread), { key: thread.key, headers, body: runInput(thread) });
    expect(first.status).toBe(200);
    expect(first.text).toContain('"type":"RUN_FINISHED"');
    const replay = await client(context, thread.key).post(
      `/api/v1/chat/${thread.agentId}/ag-ui`,
      runInput(thread),
      headers,
    );
    const stored = await storedMessages(thread);
    expect(stored.map((message) => message.content)).toEqual(['Hello', 'Only once.']);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(replay.body).toEqual(stored[1]);
    expect(scripted.requests).toHaveLength(1);
  });
});

describe('the OpenAPI document', () => {
  it('declares runAgUiAgent as an extension answering text/event-stream, with its errors', async () => {
    const spec = await loadSpec(context);
    const operation = spec.paths['/api/v1/chat/{agent_id}/ag-ui'].post;
    expect(operation).toMatchObject({ operationId: 'runAgUiAgent', tags: ['chat'], 'x-parley-extension': true });
    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/event-stream', 'application/json']);
    expect(Object.keys(operation.responses).sort()).toEqual(
      ['200', '400', '401', '403', '404', '409', '413', '415', '422', '429', '500', '503'].sort(),
    );
    expect(operation.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/AgUiRunAgentInput',
    );
    expect(spec.components.schemas.AgUiRunAgentInput.required).toEqual(['threadId', 'runId', 'messages']);
  });
});

describe('docs/examples/ag-ui.mjs', () => {
  it('runs a turn with HttpAgent against a listening server, as docs/streaming.md shows', async () => {
    const thread = await newThread({ model: 'demo', tools: ['calculator'] });
    const output = await runExample('ag-ui.mjs', thread);
    const [question, reply] = await storedMessages(thread);
    expect(question).toMatchObject({ role: 'user', content: 'Please calculate 17*23' });
    expect(output.text).toBe(reply.content);
    expect(output.reply).toEqual(reply);
    expect(output.toolResults).toEqual([{ expression: '17*23', result: 391 }]);
    expect(output.runId).toBe(reply.metadata.run_id);
    expect((await storedExecution(thread, output.runId)).status).toBe('completed');
    expect(output.newMessages.map((message: Message) => message.role)).toEqual(['assistant', 'tool']);
  });
});
