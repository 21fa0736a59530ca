import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropicServer } from '../fixtures/fake-anthropic-server.js';
import { startFakeOpenAiServer, type FakeVendorServer } from '../fixtures/fake-openai-server.js';

/**
 * The fakes are checked with the vendors' own clients (openai, @anthropic-ai/sdk): if those read
 * them as the real services, Parley's adapters are tested against the real wire formats.
 */
let openaiFake: FakeVendorServer;
let anthropicFake: FakeVendorServer;
beforeAll(async () => {
  openaiFake = await startFakeOpenAiServer({ apiKey: 'sk-test-openai' });
  anthropicFake = await startFakeAnthropicServer({ apiKey: 'sk-ant-test' });
});
afterAll(async () => {
  await openaiFake?.close();
  await anthropicFake?.close();
});
beforeEach(() => {
  openaiFake.reset();
  anthropicFake.reset();
});

/** Reads a stream to its end; the error it ends with, if any. */
async function drain<T>(stream: AsyncIterable<T>, seen: T[] = []): Promise<unknown> {
  try {
    for await (const item of stream) seen.push(item);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('the fake OpenAI server, read by the official openai client', () => {
  const openai = (options: { apiKey?: string; maxRetries?: number } = {}) =>
    new OpenAI({
      apiKey: options.apiKey ?? 'sk-test-openai',
      baseURL: `${openaiFake.baseUrl}/v1`,
      maxRetries: options.maxRetries ?? 0,
    });

  it('streams text deltas and, when asked, a final usage chunk', { timeout: 5_000 }, async () => {
    openaiFake.script({ kind: 'text', chunks: ['Hel', 'lo', ' there'], usage: { inputTokens: 7, outputTokens: 3 } });
    const stream = await openai().chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    expect(await drain(stream, chunks)).toBeUndefined();
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content).filter(Boolean)).toEqual(['Hel', 'lo', ' there']);
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
    expect(openaiFake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-test-openai' },
      body: { model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    });
  });

  it('sends no usage chunk unless asked', { timeout: 5_000 }, async () => {
    openaiFake.script({ kind: 'text', chunks: ['ok'] });
    const stream = await openai().chat.completions.create({ model: 'm', messages: [], stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    expect(await drain(stream, chunks)).toBeUndefined();
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it('assembles tool calls whose arguments are split across chunks', { timeout: 5_000 }, async () => {
    openaiFake.script({
      kind: 'tool-calls',
      text: ['Let me compute.'],
      calls: [
        { id: 'call_1', name: 'calculator', argumentsChunks: ['{"expr', 'ession":', '"1+1"}'] },
        { id: 'call_2', name: 'clock', argumentsChunks: ['{}'] },
      ],
      usage: { inputTokens: 20, outputTokens: 9 },
    });
    const runner = openai().chat.completions.stream({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream_options: { include_usage: true },
    });
    const completion = await runner.finalChatCompletion();
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: 'Let me compute.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1+1"}' } },
          { id: 'call_2', type: 'function', function: { name: 'clock', arguments: '{}' } },
        ],
      },
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 9 });
  });

  it('answers without streaming with a chat.completion object', { timeout: 5_000 }, async () => {
    openaiFake.script(
      { kind: 'text', chunks: ['Hello', ' world'], usage: { inputTokens: 5, outputTokens: 2 } },
      {
        kind: 'tool-calls',
        calls: [{ id: 'call_9', name: 'calculator', argumentsChunks: ['{"expression":', '"2"}'] }],
      },
    );
    const text = await openai().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a' }] });
    expect(text).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { role: 'assistant', content: 'Hello world' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    const tools = await openai().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'b' }] });
    expect(tools.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_9', type: 'function', function: { name: 'calculator', arguments: '{"expression":"2"}' } },
    ]);
  });

  it('answers 429, 500, a bad key and a bad body with the SDK’s error classes', { timeout: 5_000 }, async () => {
    openaiFake.script(
      { kind: 'status', status: 429, message: 'Rate limit reached for gpt-4.1-mini' },
      { kind: 'status', status: 500, message: 'The server had an error' },
    );
    const limited = await openai()
      .chat.completions.create({ model: 'm', messages: [] })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect((limited as Error).message).toContain('Rate limit reached for gpt-4.1-mini');
    await expect(openai().chat.completions.create({ model: 'm', messages: [] })).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    const unauthorised = await openai({ apiKey: 'sk-wrong-key-1234' })
      .chat.completions.create({ model: 'm', messages: [] })
      .catch((error: unknown) => error);
    expect(unauthorised).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((unauthorised as Error).message).toContain('Incorrect API key provided: sk-********1234');
    await expect(
      openai().chat.completions.create({ messages: [] } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    expect(openaiFake.pending()).toBe(0);
  });

  it('is retried by the SDK after the retry-after-ms it sends', { timeout: 5_000 }, async () => {
    openaiFake.script(
      { kind: 'status', status: 429, message: 'slow down', retryAfterMs: 20 },
      { kind: 'status', status: 503, message: 'unavailable', retryAfterMs: 20 },
      { kind: 'text', chunks: ['finally'] },
    );
    const completion = await openai({ maxRetries: 2 }).chat.completions.create({ model: 'm', messages: [] });
    expect(completion.choices[0]!.message.content).toBe('finally');
    expect(openaiFake.requests).toHaveLength(3);
  });

  it('cuts a stream in the middle: the client gets what was sent, then an error', { timeout: 5_000 }, async () => {
    openaiFake.script({ kind: 'cut', of: { kind: 'text', chunks: ['par', 'tial', ' never'] }, afterChunks: 2 });
    const stream = await openai().chat.completions.create({ model: 'm', messages: [], stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    const error = await drain(stream, chunks);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('partial');
    expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason)).toBe(false);
    expect(error).toBeInstanceOf(Error);
  });

  it('sends a malformed chunk that the client cannot parse', { timeout: 5_000 }, async () => {
    openaiFake.script({ kind: 'malformed', before: ['fine'] });
    const stream = await openai().chat.completions.create({ model: 'm', messages: [], stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    const error = await drain(stream, chunks);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('fine');
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it('sends an error inside a stream as OpenAI does', { timeout: 5_000 }, async () => {
    openaiFake.script({ kind: 'stream-error', before: ['so far'], message: 'The server had an error' });
    const stream = await openai().chat.completions.create({ model: 'm', messages: [], stream: true });
    const error = await drain(stream);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('The server had an error');
  });

  it('asks no key when started without one (a local Ollama)', { timeout: 5_000 }, async () => {
    const local = await startFakeOpenAiServer({ apiKey: null });
    try {
      local.script({ kind: 'text', chunks: ['local'] });
      const client = new OpenAI({ apiKey: 'ignored', baseURL: `${local.baseUrl}/v1`, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'llama3.2', messages: [] });
      expect(completion.choices[0]!.message.content).toBe('local');
    } finally {
      await local.close();
    }
  });
});

describe('the fake Anthropic server, read by the official @anthropic-ai/sdk client', () => {
  const anthropic = (options: { apiKey?: string; maxRetries?: number } = {}) =>
    new Anthropic({
      apiKey: options.apiKey ?? 'sk-ant-test',
      baseURL: anthropicFake.baseUrl,
      maxRetries: options.maxRetries ?? 0,
    });

  it('streams the real event sequence: text deltas, stop reason and usage', { timeout: 5_000 }, async () => {
    anthropicFake.script({ kind: 'text', chunks: ['Bon', 'jour'], usage: { inputTokens: 13, outputTokens: 2 } });
    const stream = anthropic().messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    expect(deltas).toEqual(['Bon', 'jour']);
    expect(message).toMatchObject({
      role: 'assistant',
      content: [{ type: 'text', text: 'Bonjour' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 13, output_tokens: 2 },
    });
    expect(anthropicFake.requests[0]).toMatchObject({
      path: '/v1/messages',
      headers: { authorization: 'Bearer sk-ant-test', 'anthropic-version': expect.any(String) },
      body: { model: 'claude-sonnet-4-5', max_tokens: 100, system: 'Be brief.', stream: true },
    });
  });

  it('assembles tool uses whose input is split across input_json deltas', { timeout: 5_000 }, async () => {
    anthropicFake.script({
      kind: 'tool-calls',
      text: ['Computing.'],
      calls: [
        { id: 'toolu_1', name: 'calculator', argumentsChunks: ['{"expres', 'sion": "2*3"}'] },
        { id: 'toolu_2', name: 'clock', argumentsChunks: ['{', '}'] },
      ],
    });
    const message = await anthropic()
      .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'text', text: 'Computing.' },
      { type: 'tool_use', id: 'toolu_1', name: 'calculator', input: { expression: '2*3' } },
      { type: 'tool_use', id: 'toolu_2', name: 'clock', input: {} },
    ]);
  });

  it('answers without streaming with a message object', { timeout: 5_000 }, async () => {
    anthropicFake.script({ kind: 'text', chunks: ['Hi', '!'], usage: { inputTokens: 4, outputTokens: 2 } });
    const message = await anthropic().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'Hi!' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 4, output_tokens: 2 },
    });
  });

  it('answers 429, 500, 529, a bad key and a bad body with the SDK’s error classes', { timeout: 5_000 }, async () => {
    anthropicFake.script(
      { kind: 'status', status: 429, message: 'Number of requests has exceeded your rate limit' },
      { kind: 'status', status: 500, message: 'Internal server error' },
      { kind: 'status', status: 529, message: 'Overloaded' },
    );
    const create = (client = anthropic()) =>
      client.messages.create({ model: 'm', max_tokens: 1, messages: [] }).catch((error: unknown) => error);
    const limited = await create();
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(limited).toMatchObject({ status: 429, error: { type: 'error', error: { type: 'rate_limit_error' } } });
    expect(await create()).toBeInstanceOf(Anthropic.InternalServerError);
    expect(await create()).toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } });
    expect(await create(anthropic({ apiKey: 'sk-ant-wrong' }))).toBeInstanceOf(Anthropic.AuthenticationError);
    const noVersion = new Anthropic({
      apiKey: 'sk-ant-test',
      baseURL: anthropicFake.baseUrl,
      maxRetries: 0,
      defaultHeaders: { 'anthropic-version': null },
    });
    expect(await create(noVersion)).toBeInstanceOf(Anthropic.BadRequestError);
    const noMaxTokens = await anthropic()
      .messages.create({ model: 'm', messages: [] } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error);
    expect(noMaxTokens).toBeInstanceOf(Anthropic.BadRequestError);
    expect(anthropicFake.pending()).toBe(0);
  });

  it('is retried by the SDK after the retry-after it sends', { timeout: 5_000 }, async () => {
    anthropicFake.script(
      { kind: 'status', status: 529, message: 'Overloaded', retryAfterMs: 20 },
      { kind: 'text', chunks: ['finally'] },
    );
    const message = await anthropic({ maxRetries: 2 }).messages.create({ model: 'm', max_tokens: 5, messages: [] });
    expect(message.content).toEqual([{ type: 'text', text: 'finally' }]);
    expect(anthropicFake.requests).toHaveLength(2);
  });

  it('cuts a stream in the middle: the client gets what was sent, then an error', { timeout: 5_000 }, async () => {
    anthropicFake.script({ kind: 'cut', of: { kind: 'text', chunks: ['par', 'tial', ' never'] }, afterChunks: 2 });
    const stream = await anthropic().messages.create({ model: 'm', max_tokens: 5, messages: [], stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    const error = await drain(stream, events);
    const text = events.map((event) =>
      event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : '',
    );
    expect(text.join('')).toBe('partial');
    expect(events.map((event) => event.type)).not.toContain('message_stop');
    expect(error).toBeInstanceOf(Error);
  });

  it('sends a malformed event that the client cannot parse', { timeout: 5_000 }, async () => {
    anthropicFake.script({ kind: 'malformed', before: ['fine'] });
    const stream = await anthropic().messages.create({ model: 'm', max_tokens: 5, messages: [], stream: true });
    const error = await drain(stream);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/JSON/i);
  });

  it('sends an overloaded error event inside a stream', { timeout: 5_000 }, async () => {
    anthropicFake.script({ kind: 'stream-error', before: ['so far'], message: 'Overloaded' });
    const stream = await anthropic().messages.create({ model: 'm', max_tokens: 5, messages: [], stream: true });
    const error = await drain(stream);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain('overloaded_error');
  });
});
