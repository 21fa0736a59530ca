import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StoreWriters } from '../../src/storage/store.js';
import { BUILTIN_TOOLS } from '../../src/tools/builtin/index.js';
import type { Tool } from '../../src/tools/tool.js';
import { StorableTextStream, storableJson, storableText } from '../../src/domain/storable-text.js';
import { registryWith, scriptedModel, type ScriptAction } from '../fixtures/scripted-model.js';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { parseEvents, readRaw, storedMessages, threadPath } from '../helpers/sse-client.js';

/**
 * What a model or a tool produces cannot be refused, so it is made storable (U+0000 and lone
 * surrogates become U+FFFD) and every run ends in its log. Before, a model that wrote U+0000 made
 * PostgreSQL refuse the reply: the request got 500, and the reply stayed `in_progress` with its
 * run never ended.
 */

const finish: ScriptAction = { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
const echo: Tool = {
  name: 'echo',
  description: 'Echoes its input with U+0000 added.',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
  execute: async (input) => ({ echoed: `${String(input.text)}\u0000`, ['k\u0000']: '\ud800' }),
};
const models = registryWith(
  scriptedModel('scripted:odd-text', [
    [
      { type: 'text-delta', text: 'a\u0000b ' },
      { type: 'text-delta', text: 'pair \ud83d' },
      { type: 'text-delta', text: '\ude00 lone \udc00 end \ud83d' },
      finish,
    ],
  ]),
  scriptedModel('scripted:odd-tool', [
    [
      { type: 'tool-call', toolCallId: 'c1', toolName: 'echo', input: { text: 'x\u0000\ud800' } },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 1, outputTokens: 1 } },
    ],
    [{ type: 'text-delta', text: 'done' }, finish],
  ]),
  scriptedModel('scripted:plain', [[{ type: 'text-delta', text: 'plain reply' }, finish]]),
);

let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext({ models, tools: new Map([...BUILTIN_TOOLS, ['echo', echo]]) });
  base = await context.listen();
});
afterAll(() => context.close());

async function streamReply(model: string, tools: string[]) {
  const thread = await createThreadRef(context, { base, configuration: { model, tools } });
  const { status, text } = await readRaw(`${base}${threadPath(thread)}/messages/stream`, {
    key: thread.key,
    body: { role: 'user', content: 'go' },
  });
  return { thread, status, events: parseEvents(text) };
}

it('model text with U+0000, split pairs and lone surrogates: deltas and the stored reply agree', async () => {
  const { thread, status, events } = await streamReply('scripted:odd-text', []);
  expect(status).toBe(200);
  const expected = 'a\ufffdb pair \ud83d\ude00 lone \ufffd end \ufffd';
  const deltas = events.filter((event) => event.event === 'text-delta').map((event) => event.data.delta as string);
  expect(deltas.join('')).toBe(expected);
  expect(deltas.every((delta) => delta.isWellFormed())).toBe(true);
  expect(events.at(-1)?.event).toBe('run-end');
  const reply = (await storedMessages(thread)).at(-1);
  expect({ content: reply.content, status: reply.metadata.status }).toEqual({ content: expected, status: 'completed' });
});

it('tool arguments and results with U+0000 and lone surrogates are stored repaired', async () => {
  const { thread, status, events } = await streamReply('scripted:odd-tool', ['echo']);
  expect(status).toBe(200);
  expect(events.at(-1)?.event).toBe('run-end');
  const reply = (await storedMessages(thread)).at(-1);
  expect(reply.content).toBe('done');
  expect(reply.tool_calls).toHaveLength(1);
  expect({ arguments: reply.tool_calls[0].arguments, result: reply.tool_calls[0].result }).toEqual({
    arguments: { text: 'x\ufffd\ufffd' },
    result: { echoed: 'x\ufffd\ufffd\ufffd', 'k\ufffd': '\ufffd' },
  });
});

it('a reply the store refuses still ends the run in its log, failed and empty', async () => {
  const { store } = context;
  const write = store.write.bind(store);
  let refusals = 0;
  // Storing the reply fails twice — as completed, then as failed with its text — as a database
  // refusing its content would; the third attempt, without the text, is stored.
  store.write = (unit, options) =>
    write((writers: StoreWriters) => {
      const runMessages = writers.runMessages;
      const finishReply: typeof runMessages.finish = (input) => {
        if (refusals++ < 2) return Promise.reject(new Error('refused by the database'));
        return runMessages.finish(input);
      };
      const guardedMessages = new Proxy(runMessages, {
        get: (target, name) => (name === 'finish' ? finishReply : bound(target, name)),
      });
      return unit(
        new Proxy(writers, { get: (target, name) => (name === 'runMessages' ? guardedMessages : bound(target, name)) }),
      );
    }, options);
  try {
    const { thread, status, events } = await streamReply('scripted:plain', []);
    expect(status).toBe(200);
    const last = events.at(-1);
    expect({ event: last?.event, status: last?.data.status, error: last?.data.error }).toEqual({
      event: 'run-error',
      status: 'failed',
      error: { code: 'internal_error', message: 'The run failed unexpectedly' },
    });
    const reply = (await storedMessages(thread)).at(-1);
    expect({ content: reply.content, status: reply.metadata.status }).toEqual({ content: '', status: 'failed' });
    expect(refusals).toBe(3);
  } finally {
    store.write = write;
  }
});

/** A property of `target` read on the object itself (so private fields work), methods bound to it. */
function bound(target: object, name: string | symbol): unknown {
  const value: unknown = Reflect.get(target, name, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

it('storableText and StorableTextStream', () => {
  expect(storableText('a\u0000b\ud800c\udfff')).toBe('a\ufffdb\ufffdc\ufffd');
  const plain = { a: ['x', { b: 'y' }] };
  expect(storableJson(plain)).toBe(plain);
  expect(storableJson({ ['k\u0000']: ['\ud83d\ude00', '\ude00'] })).toEqual({ 'k\ufffd': ['\ud83d\ude00', '\ufffd'] });
  const stream = new StorableTextStream();
  expect([stream.push('\ud83d'), stream.push('\ude00'), stream.push('x\ud83d'), stream.end()]).toEqual([
    '',
    '\ud83d\ude00',
    'x',
    '\ufffd',
  ]);
});
