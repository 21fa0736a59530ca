import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ModelError,
  type LanguageModel,
  type ModelRequest,
  type ModelStreamPart,
} from '../../src/models/model-port.js';
import { BUILTIN_TOOLS } from '../../src/tools/builtin/index.js';
import type { Tool } from '../../src/tools/tool.js';
import { callTools, growingRegistry, say, type ScriptAction, type ScriptedModel } from '../fixtures/scripted-model.js';
import { client, createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import {
  SseConnection,
  expectStoredMatchesStream,
  httpJson,
  pollUntil,
  replayLog,
  storedExecution,
  storedMessages,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * Runs as clients see them over SSE: cancellation, a busy thread, tools that time out, throw or
 * are not the agent's, the step budget and provider failures. Each stream is checked against the
 * stored messages and execution.
 */

const models = growingRegistry('runs');
function model(steps: ScriptAction[][]): ScriptedModel {
  return models.script(steps);
}

/** A model that streams `before`, then waits until the test opens the gate, then streams `after`. */
function gatedModel(before: string[], after: string[]): { id: string; open: () => void; calls: () => number } {
  const id = models.freshId('gated');
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let calls = 0;
  const gated: LanguageModel = {
    id,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamPart> {
      calls += 1;
      for (const text of before) yield { type: 'text-delta', text };
      await new Promise<void>((resolve, reject) => {
        request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true });
        void gate.then(resolve);
      });
      for (const text of after) yield { type: 'text-delta', text };
      yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 4 } };
    },
  };
  models.add(gated);
  return { id, open: () => open(), calls: () => calls };
}

const delta = (text: string): ScriptAction => ({ type: 'text-delta', text });
const hang: ScriptAction = { type: 'hang' };

/** Tools beyond the built-in ones, each recording what happened to it. */
const slowTool = {
  executions: 0,
  abortReasons: [] as string[],
  tool: {
    name: 'slow',
    description: 'Never answers unless aborted.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    execute(_input, { signal }) {
      slowTool.executions += 1;
      return new Promise((_, reject) => {
        signal.addEventListener(
          'abort',
          () => {
            slowTool.abortReasons.push(signal.reason instanceof Error ? signal.reason.message : String(signal.reason));
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
  } satisfies Tool,
};
const failingTool: Tool = {
  name: 'failing',
  description: 'Always throws.',
  inputSchema: { type: 'object', properties: { what: { type: 'string' } }, required: ['what'] },
  async execute(input) {
    throw new Error(`could not ${String(input.what)}`);
  },
};
let secretExecutions = 0;
const secretTool: Tool = {
  name: 'secret',
  description: 'Registered on the server but given to no agent here.',
  inputSchema: { type: 'object' },
  async execute() {
    secretExecutions += 1;
    return { leaked: true };
  },
};

let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext({
    models: models.registry,
    tools: new Map<string, Tool>([
      ...BUILTIN_TOOLS,
      ['slow', slowTool.tool],
      ['failing', failingTool],
      ['secret', secretTool],
    ]),
    runtime: { toolTimeoutMs: 200, sseKeepAliveMs: 100 },
  });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});

function newThread(configuration: Record<string, unknown>): Promise<ThreadRef> {
  return createThreadRef(context, { base, configuration });
}

function postStream(thread: ThreadRef, content: string): Promise<SseConnection> {
  return SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
    key: thread.key,
    body: { role: 'user', content },
  });
}

function cancel(thread: ThreadRef, runId: string) {
  return httpJson(base, thread.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`);
}

const names = (events: SseEvent[]) => events.map((event) => `${event.id} ${event.event}`);
const ERROR = (code: string, detail: string, response: { headers: Headers }) => ({
  detail,
  code,
  request_id: response.headers.get('x-request-id'),
});

describe('cancel', () => {
  it('stops a streaming run: run-end cancelled, partial text stored, execution cancelled', async () => {
    const scripted = model([[delta('Partial '), delta('answer'), hang], say('Fresh start.')]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const stream = await postStream(thread, 'take your time');
    const head = await stream.readUntil((event) => event.id === '4.2');
    const runId = head.find((event) => event.event === 'run-start')!.data.run_id as string;
    const assistantId = head.find((event) => event.event === 'run-start')!.data.message_id as string;

    const cancelled = await cancel(thread, runId);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ run_id: runId, status: 'cancelling', message_id: assistantId });

    const tail = await stream.readToEnd();
    expect(stream.ended).toBe(true);
    const all = [...head, ...tail];
    expect(names(all)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '4.1 text-delta',
      '4.2 text-delta',
      '5 message-end',
      '6 run-end',
    ]);
    const runEnd = all.at(-1)!.data;
    expect(runEnd).toMatchObject({
      run_id: runId,
      status: 'cancelled',
      finish_reason: 'cancelled',
      usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
    });
    expect(runEnd.message).toMatchObject({
      id: assistantId,
      content: 'Partial answer',
      metadata: { run_id: runId, status: 'cancelled', finish_reason: 'cancelled' },
    });
    expect(runEnd.message.metadata.error).toBeUndefined();
    const { executions } = await expectStoredMatchesStream(thread, all);
    expect(executions.get(runId)).toMatchObject({
      status: 'cancelled',
      error_message: null,
      final_output: { content: 'Partial answer' },
    });

    // Cancelling again: the run has ended.
    const again = await cancel(thread, runId);
    expect(again.status).toBe(409);
    expect(again.body).toEqual(ERROR('run_not_active', 'The run has already ended.', again));
    // An unknown run, and a real run named under another thread of the same agent.
    const unknown = await cancel(thread, crypto.randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(ERROR('run_not_found', 'Run not found.', unknown));
    const otherThread = await client(context, thread.key).createThread(thread.agentId);
    const elsewhere = await cancel({ ...thread, threadId: otherThread.id }, runId);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.code).toBe('run_not_found');

    // The thread is free again.
    const next = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'again',
    });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ content: 'Fresh start.', metadata: { status: 'completed' } });
  });

  it('stops a run while a tool is running: the tool gets the cancellation, the run ends cancelled', async () => {
    const scripted = model([[delta('Working '), ...callTools({ name: 'slow', input: {} })], say('never')]);
    const thread = await newThread({ model: scripted.id, tools: ['slow'] });
    const executionsBefore = slowTool.executions;
    const stream = await postStream(thread, 'do the slow thing');
    const head = await stream.readUntil((event) => event.event === 'tool-call-start');
    const runId = head.find((event) => event.event === 'run-start')!.data.run_id as string;
    await pollUntil(() => (slowTool.executions > executionsBefore ? true : undefined), { what: 'the tool to start' });
    // A 200 ms tool deadline: cancel well within it.
    expect((await cancel(thread, runId)).status).toBe(200);
    const all = [...head, ...(await stream.readToEnd())];
    expect(names(all)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '4.1 text-delta',
      '5 tool-call-start',
      '6 tool-call-end',
      '7 message-end',
      '8 run-end',
    ]);
    expect(all[6]!.data).toMatchObject({
      run_id: runId,
      tool_name: 'slow',
      result: null,
      error: 'The run was cancelled',
    });
    expect(slowTool.abortReasons.at(-1)).toBe('The run was cancelled');
    expect(all.at(-1)!.data).toMatchObject({ status: 'cancelled', finish_reason: 'cancelled' });
    expect(all.at(-1)!.data.message).toMatchObject({
      content: 'Working ',
      tool_calls: [{ tool_name: 'slow', arguments: {}, result: null, error: 'The run was cancelled' }],
      metadata: { status: 'cancelled' },
    });
    const { executions } = await expectStoredMatchesStream(thread, all);
    expect(
      executions.get(runId).steps.map((step: { step_type: string; status: string }) => [step.step_type, step.status]),
    ).toEqual([
      ['llm', 'completed'],
      ['tool', 'failed'],
    ]);
    expect(scripted.requests).toHaveLength(1);
  });
});

describe('a busy thread', () => {
  it('refuses a second user message with 409 thread_busy and stores nothing of it; after the run one works', async () => {
    const gated = gatedModel(['Thinking '], ['done.']);
    const thread = await newThread({ model: gated.id, tools: [] });
    const stream = await postStream(thread, 'first');
    const head = await stream.readUntil((event) => event.event === 'text-delta');
    const runId = head.find((event) => event.event === 'run-start')!.data.run_id as string;

    const plain = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'second',
    });
    expect(plain.status).toBe(409);
    expect(plain.body).toEqual(ERROR('thread_busy', 'A reply is already being generated in this thread.', plain));
    const streamed = await postStream(thread, 'third');
    expect(streamed.status).toBe(409);
    expect(streamed.header('content-type')).toBe('application/json; charset=utf-8');
    expect(streamed.body).toEqual({
      detail: 'A reply is already being generated in this thread.',
      code: 'thread_busy',
      request_id: streamed.header('x-request-id'),
    });
    expect(streamed.received).toEqual([]);

    // Only the first exchange is stored, its reply still in progress.
    const during = await storedMessages(thread);
    expect(during.map((message) => [message.role, message.content, message.metadata.status ?? null])).toEqual([
      ['user', 'first', null],
      ['assistant', '', 'in_progress'],
    ]);
    expect((await storedExecution(thread, runId)).status).toBe('running');
    expect(gated.calls()).toBe(1);
    // While the run waits, the stream stays open with keep-alive comments and no events.
    // (Read until two have come, however slow the machine: any event meanwhile fails the read.)
    const keepAlives = () => stream.comments.filter((comment) => comment.trim() === 'keep-alive').length;
    while (keepAlives() < 2) await expect(stream.next(100)).rejects.toThrow(/timed out/);
    expect(keepAlives()).toBeGreaterThanOrEqual(2);

    gated.open();
    const all = [...head, ...(await stream.readToEnd())];
    expect(names(all)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '4.1 text-delta',
      '4.2 text-delta',
      '5 message-end',
      '6 run-end',
    ]);
    expect(all.at(-1)!.data).toMatchObject({ status: 'completed', message: { content: 'Thinking done.' } });
    await expectStoredMatchesStream(thread, all);
    const list = await httpJson(base, thread.key, 'GET', `/api/v1/flows/executions?agent_id=${thread.agentId}`);
    expect(list.body.total_count).toBe(1);

    const next = await postStream(thread, 'fourth');
    const nextEvents = await next.readToEnd();
    expect(nextEvents.map((event) => event.id)).toEqual(['7', '8', '9', '10', '10.1', '10.2', '11', '12']);
    expect(nextEvents.at(-1)!.data).toMatchObject({ status: 'completed', message: { content: 'Thinking done.' } });
    const { messages } = await expectStoredMatchesStream(thread, nextEvents);
    expect(messages.map((message) => message.content)).toEqual(['first', 'Thinking done.', 'fourth', 'Thinking done.']);
    expect(gated.calls()).toBe(2);
  });
});

describe('tools', () => {
  it('a tool that never answers times out; the run goes on to the next model step and completes', async () => {
    const scripted = model([callTools({ name: 'slow', input: {} }), say('The tool was too slow.')]);
    const thread = await newThread({ model: scripted.id, tools: ['slow'] });
    const stream = await postStream(thread, 'use the slow tool');
    const all = await stream.readToEnd();
    expect(names(all)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '5 tool-call-start',
      '6 tool-call-end',
      '6.1 text-delta',
      '6.2 text-delta',
      '6.3 text-delta',
      '6.4 text-delta',
      '6.5 text-delta',
      '7 message-end',
      '8 run-end',
    ]);
    const runId = all[2]!.data.run_id as string;
    expect(all[4]!.data).toMatchObject({ run_id: runId, tool_call_id: 'call_1', tool_name: 'slow', arguments: {} });
    const end = all[5]!.data;
    expect(end).toMatchObject({
      tool_call_id: 'call_1',
      tool_name: 'slow',
      result: null,
      error: 'Tool slow timed out after 200 ms',
    });
    expect(Date.parse(end.end_time) - Date.parse(all[4]!.data.start_time)).toBeGreaterThanOrEqual(190);
    expect(slowTool.abortReasons.at(-1)).toBe('Tool slow timed out after 200 ms');
    expect(all.at(-1)!.data).toMatchObject({ status: 'completed', finish_reason: 'stop' });
    expect(all.at(-1)!.data.message).toMatchObject({
      content: 'The tool was too slow.',
      tool_calls: [{ tool_name: 'slow', arguments: {}, result: null, error: 'Tool slow timed out after 200 ms' }],
    });
    // The model's second call got the timeout as an error result.
    expect(scripted.requests).toHaveLength(2);
    expect(scripted.requests[1]!.messages.at(-1)).toEqual({
      role: 'tool',
      toolCallId: 'call_1',
      toolName: 'slow',
      result: 'Tool slow timed out after 200 ms',
      isError: true,
    });
    const { executions } = await expectStoredMatchesStream(thread, all);
    const execution = executions.get(runId);
    expect(execution).toMatchObject({ status: 'completed', tool_calls_count: 1, error_message: null });
    expect(
      execution.steps.map((step: { step_type: string; status: string; error_message: string | null }) => [
        step.step_type,
        step.status,
        step.error_message,
      ]),
    ).toEqual([
      ['llm', 'completed', null],
      ['tool', 'failed', 'Tool slow timed out after 200 ms'],
      ['llm', 'completed', null],
    ]);
  });

  it('a tool that throws gives the model an error result and the run continues', async () => {
    const scripted = model([callTools({ name: 'failing', input: { what: 'frobnicate' } }), say('Sorry, that failed.')]);
    const thread = await newThread({ model: scripted.id, tools: ['failing'] });
    const all = await (await postStream(thread, 'frobnicate it')).readToEnd();
    const end = all.find((event) => event.event === 'tool-call-end')!;
    expect(end.data).toMatchObject({ tool_name: 'failing', result: null, error: 'could not frobnicate' });
    expect(all.at(-1)).toMatchObject({ event: 'run-end', data: { status: 'completed', finish_reason: 'stop' } });
    expect(all.at(-1)!.data.message).toMatchObject({
      content: 'Sorry, that failed.',
      tool_calls: [
        { tool_name: 'failing', arguments: { what: 'frobnicate' }, result: null, error: 'could not frobnicate' },
      ],
    });
    expect(scripted.requests[1]!.messages.at(-1)).toMatchObject({
      role: 'tool',
      isError: true,
      result: 'could not frobnicate',
    });
    await expectStoredMatchesStream(thread, all);
  });

  it('a tool the agent does not have is "not available" and nothing runs', async () => {
    const scripted = model([
      callTools(
        { name: 'secret', input: {}, id: 'call_a' },
        { name: 'calculator', input: { expression: '1+1' }, id: 'call_b' },
      ),
      say('I cannot do that.'),
    ]);
    const thread = await newThread({ model: scripted.id, tools: ['current_time'] });
    const all = await (await postStream(thread, 'use the secret tool')).readToEnd();
    expect(scripted.requests[0]!.tools.map((tool) => tool.name)).toEqual(['current_time']);
    const ends = all
      .filter((event) => event.event === 'tool-call-end')
      .map((event) => [event.data.tool_call_id, event.data.result, event.data.error]);
    expect(ends.sort()).toEqual([
      ['call_a', null, 'Tool "secret" is not available to this agent'],
      ['call_b', null, 'Tool "calculator" is not available to this agent'],
    ]);
    expect(secretExecutions).toBe(0);
    expect(all.at(-1)).toMatchObject({
      event: 'run-end',
      data: { status: 'completed', message: { content: 'I cannot do that.' } },
    });
    const { executions } = await expectStoredMatchesStream(thread, all);
    expect(executions.get(all[2]!.data.run_id)).toMatchObject({ status: 'completed', tool_calls_count: 2 });
  });
});

describe('max_steps', () => {
  it('ends with finish_reason max_steps after exactly that many model calls', async () => {
    const scripted = model([callTools({ name: 'calculator', input: { expression: '1+1' } })]);
    const thread = await newThread({ model: scripted.id, tools: ['calculator'], max_steps: 2 });
    const all = await (await postStream(thread, 'loop forever')).readToEnd();
    expect(names(all)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '5 tool-call-start',
      '6 tool-call-end',
      '7 message-end',
      '8 run-end',
    ]);
    const runEnd = all.at(-1)!.data;
    expect(runEnd).toMatchObject({
      status: 'completed',
      finish_reason: 'max_steps',
      usage: { input_tokens: 20, output_tokens: 4, total_tokens: 24 },
    });
    expect(runEnd.message.metadata).toMatchObject({ status: 'completed', finish_reason: 'max_steps' });
    expect(scripted.requests).toHaveLength(2);
    const { executions } = await expectStoredMatchesStream(thread, all);
    const execution = executions.get(runEnd.run_id);
    expect(execution.steps.map((step: { step_type: string }) => step.step_type)).toEqual(['llm', 'tool', 'llm']);
    expect(execution.steps.filter((step: { step_type: string }) => step.step_type === 'llm')).toHaveLength(2);
    expect(execution.performance_metrics).toMatchObject({ model_calls: 2 });
  });
});

describe('a provider error mid-stream', () => {
  const failure = () => new ModelError('provider_error', 'Upstream returned 500: overloaded');

  it('ends the stream with run-error model_error; the partial text is stored as failed', async () => {
    const scripted = model([[delta('Partial '), delta('reply'), { type: 'throw', error: failure() }]]);
    const thread = await newThread({ model: scripted.id, tools: [] });
    const stream = await postStream(thread, 'go');
    const all = await stream.readToEnd();
    expect(names(all)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '4.1 text-delta',
      '4.2 text-delta',
      '5 message-end',
      '6 run-error',
    ]);
    const runError = all.at(-1)!.data;
    expect(runError).toMatchObject({
      status: 'failed',
      error: { code: 'model_error', message: 'Upstream returned 500: overloaded' },
    });
    expect(runError.message).toMatchObject({
      content: 'Partial reply',
      metadata: {
        status: 'failed',
        finish_reason: 'failed',
        error: { code: 'model_error', message: 'Upstream returned 500: overloaded' },
      },
    });
    const { executions } = await expectStoredMatchesStream(thread, all);
    expect(executions.get(runError.run_id)).toMatchObject({
      status: 'failed',
      error_message: 'Upstream returned 500: overloaded',
    });

    // The non-streaming POST answers 502 model_error; the exchange is stored all the same.
    const plain = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'again',
    });
    expect(plain.status).toBe(502);
    expect(plain.body).toEqual(ERROR('model_error', 'Upstream returned 500: overloaded', plain));
    const log = await replayLog(thread, 12);
    const { messages, executions: after } = await expectStoredMatchesStream(thread, log);
    expect(messages.map((message) => [message.role, message.content, message.metadata.status ?? null])).toEqual([
      ['user', 'go', null],
      ['assistant', 'Partial reply', 'failed'],
      ['user', 'again', null],
      ['assistant', 'Partial reply', 'failed'],
    ]);
    expect([...after.values()].map((execution) => execution.status)).toEqual(['failed', 'failed']);
  });
});

describe('deleting what a run writes to, mid-run', () => {
  it('deleting the agent does not take the server down: the run ends, is logged, and the server keeps serving', async () => {
    const gated = gatedModel(['Before '], ['after.']);
    const thread = await newThread({ model: gated.id, tools: [] });
    const stream = await postStream(thread, 'question');
    const head = await stream.readUntil((event) => event.event === 'text-delta');
    const runId = head.find((event) => event.event === 'run-start')!.data.run_id as string;
    const deleted = await httpJson(base, thread.key, 'DELETE', `/api/v1/agents/${thread.agentId}`);
    expect(deleted.status).toBe(204);
    gated.open();
    // The run can no longer be stored (its execution went with the agent); it must end quietly.
    await pollUntil(
      () =>
        context.logs.some((line) => line.includes('"msg":"run could not be finished"') && line.includes(runId))
          ? true
          : undefined,
      { what: 'the run to end' },
    );
    // The run is let go just after that line is logged.
    await pollUntil(() => (context.parley.runtime.activeRunCount === 0 ? true : undefined), {
      what: 'the run to be let go',
    });
    // Nothing could be stored, but the stream still hears that the run ended, and closes.
    const tail = await stream.readUntil((event) => event.event === 'run-end');
    expect(tail.at(-1)!.data).toMatchObject({ run_id: runId, status: 'completed' });
    expect((await httpJson(base, null, 'GET', '/healthz')).status).toBe(200);
    expect((await httpJson(base, thread.key, 'GET', `/api/v1/flows/executions/${runId}`)).status).toBe(404);
  });

  it('deleting the thread: the run still completes and its execution is kept', async () => {
    const gated = gatedModel(['Before '], ['after.']);
    const thread = await newThread({ model: gated.id, tools: [] });
    const stream = await postStream(thread, 'question');
    const head = await stream.readUntil((event) => event.event === 'text-delta');
    const runId = head.find((event) => event.event === 'run-start')!.data.run_id as string;
    expect((await httpJson(base, thread.key, 'DELETE', threadPath(thread))).status).toBe(204);
    gated.open();
    const execution = await pollUntil(
      async () => {
        const current = await storedExecution(thread, runId);
        return current.status === 'running' ? undefined : current;
      },
      { what: 'the run to finish' },
    );
    expect(execution).toMatchObject({ status: 'completed', final_output: { content: 'Before after.' } });
    const tail = await stream.readUntil((event) => event.event === 'run-end');
    expect(tail.at(-1)!.data).toMatchObject({ run_id: runId, status: 'completed' });
  });
});
