import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, startFakeOpenAi, type FakeServer } from '../fixtures/fake-llm-servers.js';

/** The fakes are checked with the vendors' official clients, so the wire formats are the real ones. */
let openaiFake: FakeServer;
let anthropicFake: FakeServer;
beforeAll(async () => {
  openaiFake = await startFakeOpenAi();
  anthropicFake = await startFakeAnthropic();
});
afterAll(async () => {
  await openaiFake.close();
  await anthropicFake.close();
});

describe('fake OpenAI server, read by the official openai client', () => {
  const client = () => new OpenAI({ apiKey: 'test-openai-key', baseURL: `${openaiFake.baseUrl}/v1`, maxRetries: 0 });

  it('streams text and usage', async () => {
    openaiFake.next({ kind: 'text', chunks: ['Hel', 'lo'], usage: { input: 7, output: 2 } });
    const stream = await client().chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello');
    expect(usage).toEqual({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
  });

  it('assembles a tool call split across chunks', async () => {
    openaiFake.next({
      kind: 'tool-calls',
      calls: [{ id: 'call_1', name: 'calculator', argumentChunks: ['{"expr', 'ession":"1+1"}'] }],
    });
    const stream = client().chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    const completion = await stream.finalChatCompletion();
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1+1"}' } },
    ]);
  });

  it('answers 429, 500 and a bad key with the SDK’s error classes, and can cut a stream short', async () => {
    openaiFake.next({ kind: 'status', status: 429, message: 'slow down' });
    await expect(client().chat.completions.create({ model: 'm', messages: [] })).rejects.toBeInstanceOf(
      OpenAI.RateLimitError,
    );
    openaiFake.next({ kind: 'status', status: 500, message: 'boom' });
    await expect(client().chat.completions.create({ model: 'm', messages: [] })).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    const unauthorised = new OpenAI({ apiKey: 'wrong', baseURL: `${openaiFake.baseUrl}/v1`, maxRetries: 0 });
    await expect(unauthorised.chat.completions.create({ model: 'm', messages: [] })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    // A stream cut in the middle: the client gets what was sent and never a finish reason.
    openaiFake.next({ kind: 'cut', chunks: ['par'] });
    let received = '';
    const finishReasons: (string | null | undefined)[] = [];
    const cut = await client().chat.completions.create({ model: 'm', messages: [], stream: true });
    try {
      for await (const chunk of cut) {
        received += chunk.choices[0]?.delta?.content ?? '';
        finishReasons.push(chunk.choices[0]?.finish_reason);
      }
    } catch {
      // Depending on timing the client sees the cut as an error or as an early end.
    }
    expect(received).toBe('par');
    expect(finishReasons.filter(Boolean)).toEqual([]);
  });
});

describe('fake Anthropic server, read by the official @anthropic-ai/sdk client', () => {
  const client = () => new Anthropic({ apiKey: 'test-anthropic-key', baseURL: anthropicFake.baseUrl, maxRetries: 0 });

  it('streams text and usage', async () => {
    anthropicFake.next({ kind: 'text', chunks: ['Bon', 'jour'], usage: { input: 13, output: 2 } });
    const message = await client()
      .messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'Bonjour' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 13, output_tokens: 2 });
  });

  it('assembles a tool use split across input_json deltas', async () => {
    anthropicFake.next({
      kind: 'tool-calls',
      calls: [{ id: 'toolu_1', name: 'calculator', argumentChunks: ['{"expres', 'sion": "2*3"}'] }],
    });
    const message = await client()
      .messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'toolu_1', name: 'calculator', input: { expression: '2*3' } },
    ]);
  });

  it('answers 429 and 500 with the SDK’s error classes', async () => {
    anthropicFake.next({ kind: 'status', status: 429, message: 'slow down' });
    await expect(client().messages.create({ model: 'm', max_tokens: 1, messages: [] })).rejects.toBeInstanceOf(
      Anthropic.RateLimitError,
    );
    anthropicFake.next({ kind: 'status', status: 500, message: 'boom' });
    await expect(client().messages.create({ model: 'm', max_tokens: 1, messages: [] })).rejects.toBeInstanceOf(
      Anthropic.InternalServerError,
    );
  });
});
