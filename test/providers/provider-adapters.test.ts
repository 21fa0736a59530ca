import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ModelProvidersConfig } from '../../src/config.js';
import { ModelError, type ModelRequest, type ModelStreamPart } from '../../src/models/model-port.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { startFakeAnthropicServer } from '../fixtures/fake-anthropic-server.js';
import { startFakeOpenAiServer, type FakeVendorServer, type Scenario } from '../fixtures/fake-openai-server.js';

/**
 * Parley's provider adapters (the AI SDK providers behind the model port), resolved by id from
 * a registry configured like a server's, against fake vendors on loopback.
 */
const OPENAI_KEY = 'sk-openai-SECRET-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-SECRET-0123456789abcdef';
const ROUTER_KEY = 'sk-or-SECRET-0123456789abcdef';
const SECRETS = [OPENAI_KEY, ANTHROPIC_KEY, ROUTER_KEY];

let openaiFake: FakeVendorServer;
let anthropicFake: FakeVendorServer;
/** Ollama and a local vLLM ask for no key. */
let localFake: FakeVendorServer;
/** A hosted OpenAI-compatible endpoint that wants its own key (OpenRouter and the like). */
let routerFake: FakeVendorServer;
let providers: ModelProvidersConfig;

beforeAll(async () => {
  openaiFake = await startFakeOpenAiServer({ apiKey: OPENAI_KEY });
  anthropicFake = await startFakeAnthropicServer({ apiKey: ANTHROPIC_KEY });
  localFake = await startFakeOpenAiServer({ apiKey: null });
  routerFake = await startFakeOpenAiServer({ apiKey: ROUTER_KEY });
  providers = {
    ...loadConfig({}).models,
    openai: { apiKey: OPENAI_KEY, baseUrl: `${openaiFake.baseUrl}/v1` },
    anthropic: { apiKey: ANTHROPIC_KEY, baseUrl: `${anthropicFake.baseUrl}/v1` },
    ollamaBaseUrl: `${localFake.baseUrl}/v1`,
    openaiCompatible: {
      local: { baseUrl: `${localFake.baseUrl}/v1`, apiKey: undefined },
      router: { baseUrl: `${routerFake.baseUrl}/v1`, apiKey: ROUTER_KEY },
    },
  };
});
afterAll(async () => {
  await Promise.all([openaiFake, anthropicFake, localFake, routerFake].map((fake) => fake?.close()));
});
beforeEach(() => {
  for (const fake of [openaiFake, anthropicFake, localFake, routerFake]) fake.reset();
});

const CALCULATOR_SCHEMA = {
  type: 'object',
  properties: { expression: { type: 'string' } },
  required: ['expression'],
  additionalProperties: false,
};
const TOOLS = [{ name: 'calculator', description: 'Evaluates arithmetic.', inputSchema: CALCULATOR_SCHEMA }];

/** One model turn, all its parts. */
async function collect(
  modelId: string,
  overrides: Partial<ModelRequest> = {},
  config: ModelProvidersConfig = providers,
): Promise<ModelStreamPart[]> {
  const model = createModelRegistry(config).resolve(modelId);
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream({
    system: 'You are terse.',
    messages: [{ role: 'user', content: 'hi' }],
    tools: TOOLS,
    signal: new AbortController().signal,
    ...overrides,
  })) {
    parts.push(part);
  }
  return parts;
}

/** The ModelError a turn ends with (fails the test if it ends any other way). */
async function failure(modelId: string, overrides: Partial<ModelRequest> = {}, config = providers) {
  const outcome = await collect(modelId, overrides, config).then(
    (parts) => ({ parts }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a ModelError, got ${JSON.stringify(outcome.parts)}`);
  expect(outcome.error).toBeInstanceOf(ModelError);
  const error = outcome.error as ModelError;
  for (const secret of SECRETS) {
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
  }
  return error;
}

const textOf = (parts: ModelStreamPart[]) =>
  parts.filter((part) => part.type === 'text-delta').map((part) => (part as { text: string }).text);

/** Fast retries: the fakes send the vendor's retry header (the SDK's own backoff is 2 s, then 4 s). */
const RETRY_SOON = { retryAfterMs: 5 };
const fiveHundred: Scenario = { kind: 'status', status: 500, message: 'upstream exploded', ...RETRY_SOON };
const fourTwentyNine: Scenario = { kind: 'status', status: 429, message: 'Rate limit reached', ...RETRY_SOON };

const PROVIDERS = [
  { modelId: 'openai:gpt-4.1-mini', model: 'gpt-4.1-mini', wire: 'openai', fake: () => openaiFake },
  { modelId: 'openai-compatible:local/qwen2.5-7b', model: 'qwen2.5-7b', wire: 'openai', fake: () => localFake },
  {
    modelId: 'openai-compatible:router/meta-llama/llama-3.1-8b',
    model: 'meta-llama/llama-3.1-8b',
    wire: 'openai',
    fake: () => routerFake,
  },
  { modelId: 'ollama:llama3.2', model: 'llama3.2', wire: 'openai', fake: () => localFake },
  { modelId: 'anthropic:claude-sonnet-4-5', model: 'claude-sonnet-4-5', wire: 'anthropic', fake: () => anthropicFake },
] as const;

describe.each(PROVIDERS)('$modelId through the AI SDK adapter', ({ modelId, model, wire, fake }) => {
  it('streams the text deltas in order, then the finish with the usage', { timeout: 5_000 }, async () => {
    fake().script({ kind: 'text', chunks: ['The ', 'answer ', 'is 42.'], usage: { inputTokens: 13, outputTokens: 3 } });
    const parts = await collect(modelId);
    expect(parts).toEqual([
      { type: 'text-delta', text: 'The ' },
      { type: 'text-delta', text: 'answer ' },
      { type: 'text-delta', text: 'is 42.' },
      { type: 'finish', finishReason: 'stop', usage: { inputTokens: 13, outputTokens: 3 } },
    ]);
    expect(fake().requests).toHaveLength(1);
  });

  it('turns tool calls split across chunks into one part each, with parsed input', { timeout: 5_000 }, async () => {
    fake().script({
      kind: 'tool-calls',
      text: ['Let me compute.'],
      calls: [
        { id: 'call_7', name: 'calculator', argumentsChunks: ['{"expr', 'ession":', '"6*7"}'] },
        { id: 'call_8', name: 'calculator', argumentsChunks: ['{"expression"', ':"1+1"}'] },
      ],
      usage: { inputTokens: 20, outputTokens: 9 },
    });
    const parts = await collect(modelId);
    expect(parts).toEqual([
      { type: 'text-delta', text: 'Let me compute.' },
      { type: 'tool-call', toolCallId: 'call_7', toolName: 'calculator', input: { expression: '6*7' } },
      { type: 'tool-call', toolCallId: 'call_8', toolName: 'calculator', input: { expression: '1+1' } },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 20, outputTokens: 9 } },
    ]);
  });

  it(
    'sends the system prompt, the tools as JSON Schema, and the tool calls and results of the step before',
    {
      timeout: 5_000,
    },
    async () => {
      fake().script({ kind: 'text', chunks: ['42'] });
      await collect(modelId, {
        messages: [
          { role: 'user', content: 'what is 6*7 and 1/0?' },
          {
            role: 'assistant',
            content: 'Computing.',
            toolCalls: [
              { toolCallId: 'call_7', toolName: 'calculator', input: { expression: '6*7' } },
              { toolCallId: 'call_8', toolName: 'calculator', input: { expression: '1/0' } },
            ],
          },
          { role: 'tool', toolCallId: 'call_7', toolName: 'calculator', result: { result: 42 }, isError: false },
          { role: 'tool', toolCallId: 'call_8', toolName: 'calculator', result: 'division by zero', isError: true },
        ],
      });
      const [request] = fake().requests;
      expect(request).toMatchObject({ method: 'POST', body: { model, stream: true } });
      if (wire === 'openai') {
        expect(request!.path).toBe('/v1/chat/completions');
        expect(request!.body.stream_options).toEqual({ include_usage: true });
        expect(request!.body.messages).toEqual([
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'what is 6*7 and 1/0?' },
          {
            role: 'assistant',
            content: 'Computing.',
            tool_calls: [
              { id: 'call_7', type: 'function', function: { name: 'calculator', arguments: '{"expression":"6*7"}' } },
              { id: 'call_8', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1/0"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_7', content: '{"result":42}' },
          { role: 'tool', tool_call_id: 'call_8', content: 'division by zero' },
        ]);
        expect(request!.body.tools).toEqual([
          {
            type: 'function',
            function: { name: 'calculator', description: 'Evaluates arithmetic.', parameters: CALCULATOR_SCHEMA },
          },
        ]);
      } else {
        expect(request!.path).toBe('/v1/messages');
        expect(request!.body.system).toEqual([{ type: 'text', text: 'You are terse.' }]);
        expect(request!.body.max_tokens).toEqual(expect.any(Number));
        expect(request!.body.messages).toEqual([
          { role: 'user', content: [{ type: 'text', text: 'what is 6*7 and 1/0?' }] },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Computing.' },
              { type: 'tool_use', id: 'call_7', name: 'calculator', input: { expression: '6*7' } },
              { type: 'tool_use', id: 'call_8', name: 'calculator', input: { expression: '1/0' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'call_7', content: '{"result":42}' },
              { type: 'tool_result', tool_use_id: 'call_8', content: 'division by zero', is_error: true },
            ],
          },
        ]);
        expect(request!.body.tools).toMatchObject([
          { name: 'calculator', description: 'Evaluates arithmetic.', input_schema: CALCULATOR_SCHEMA },
        ]);
      }
    },
  );

  it('sends the key configured for the provider, and only that', { timeout: 5_000 }, async () => {
    fake().script({ kind: 'text', chunks: ['ok'] });
    await collect(modelId);
    const { headers } = fake().requests[0]!;
    if (modelId.startsWith('openai:')) expect(headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    else if (modelId.includes(':router/')) expect(headers.authorization).toBe(`Bearer ${ROUTER_KEY}`);
    else if (wire === 'anthropic') {
      expect(headers['x-api-key']).toBe(ANTHROPIC_KEY);
      expect(headers['anthropic-version']).toBe('2023-06-01');
      expect(headers.authorization).toBeUndefined();
    } else expect(headers.authorization).toBeUndefined();
  });

  it('retries a 429 and a 503, then succeeds', { timeout: 5_000 }, async () => {
    fake().script(
      fourTwentyNine,
      { kind: 'status', status: 503, message: 'unavailable', ...RETRY_SOON },
      { kind: 'text', chunks: ['fine'] },
    );
    const parts = await collect(modelId);
    expect(textOf(parts)).toEqual(['fine']);
    expect(fake().requests).toHaveLength(3);
  });

  it('gives up after two retries of a 500 with a provider_error', { timeout: 5_000 }, async () => {
    fake().script(fiveHundred, fiveHundred, fiveHundred);
    const error = await failure(modelId);
    expect(error.kind).toBe('provider_error');
    expect(error.message).toBe('The model provider answered 500: upstream exploded');
    expect(fake().requests).toHaveLength(3);
  });

  it('gives up after two retries of a 429 with rate_limited', { timeout: 5_000 }, async () => {
    fake().script(fourTwentyNine, fourTwentyNine, fourTwentyNine);
    const error = await failure(modelId);
    expect(error.kind).toBe('rate_limited');
    expect(error.message).toContain('Rate limit reached');
    expect(fake().requests).toHaveLength(3);
  });

  it('does not retry a 400', { timeout: 5_000 }, async () => {
    fake().script({ kind: 'status', status: 400, message: `model '${model}' does not support tools` });
    const error = await failure(modelId);
    expect(error.kind).toBe('provider_error');
    expect(error.message).toBe(`The model provider answered 400: model '${model}' does not support tools`);
    expect(fake().requests).toHaveLength(1);
  });

  it.each(['socket', 'body'] as const)(
    'raises a ModelError, without hanging, when the stream is cut in the middle (by its %s)',
    { timeout: 5_000 },
    async (by) => {
      fake().script({ kind: 'cut', of: { kind: 'text', chunks: ['par', 'tial', ' never'] }, afterChunks: 2, by });
      const error = await failure(modelId);
      expect(error).toMatchObject({
        kind: 'provider_error',
        message: 'The model provider could not be reached or sent a broken response',
      });
      expect(fake().requests).toHaveLength(1);
    },
  );

  it('raises a ModelError when a tool call is cut in the middle of its arguments', { timeout: 5_000 }, async () => {
    fake().script({
      kind: 'cut',
      of: {
        kind: 'tool-calls',
        calls: [{ id: 'call_1', name: 'calculator', argumentsChunks: ['{"expr', 'ession":"1"}'] }],
      },
      afterChunks: 1,
    });
    expect((await failure(modelId)).kind).toBe('provider_error');
  });

  it.each(['continue', 'end', 'hold'] as const)(
    'raises a ModelError, without hanging, on a malformed chunk (then %s)',
    { timeout: 5_000 },
    async (then) => {
      fake().script({ kind: 'malformed', before: ['fine so far'], then });
      const error = await failure(modelId);
      expect(error).toMatchObject({
        kind: 'provider_error',
        message: 'The model provider could not be reached or sent a broken response',
      });
      expect(fake().requests).toHaveLength(1);
    },
  );

  it('raises a ModelError on an error sent inside the stream', { timeout: 5_000 }, async () => {
    fake().script({ kind: 'stream-error', before: ['so far'], message: 'Overloaded' });
    expect((await failure(modelId)).kind).toBe('provider_error');
  });

  it.each([
    ['an HTML page', 'text/html', '<html><body>Bad gateway</body></html>'],
    ['a JSON object', 'application/json', '{"status":"ok"}'],
  ])('raises a ModelError on %s where the stream should be', { timeout: 5_000 }, async (_, contentType, body) => {
    fake().script({ kind: 'raw', status: 200, contentType, body });
    const error = await failure(modelId);
    expect(error.message).toBe('The model provider could not be reached or sent a broken response');
  });

  it('stops a stalled stream when the run is aborted', { timeout: 5_000 }, async () => {
    fake().script({ kind: 'stall', chunks: ['thinking'] });
    const controller = new AbortController();
    const parts: ModelStreamPart[] = [];
    const started = Date.now();
    const outcome = (async () => {
      for await (const part of createModelRegistry(providers)
        .resolve(modelId)
        .stream({ system: '', messages: [{ role: 'user', content: 'hi' }], tools: [], signal: controller.signal })) {
        parts.push(part);
        if (part.type === 'text-delta') controller.abort(new Error('run cancelled'));
      }
    })();
    // The run's own reason, so the runtime can tell a cancel or a timeout from a provider failure.
    await expect(outcome).rejects.toThrow('run cancelled');
    expect(textOf(parts)).toEqual(['thinking']);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('keys and configuration', () => {
  it.each(['openai:gpt-4.1-mini', 'anthropic:claude-sonnet-4-5'])(
    'a wrong %s key ends in a 401 provider_error that does not contain the key',
    { timeout: 5_000 },
    async (id) => {
      const wrong = 'sk-wrong-SECRET-0123456789abcdef';
      const error = await failure(
        id,
        {},
        {
          ...providers,
          openai: { ...providers.openai, apiKey: wrong },
          anthropic: { ...providers.anthropic, apiKey: wrong },
        },
      );
      expect(error.kind).toBe('provider_error');
      expect(error.message).toMatch(/^The model provider answered 401: /);
      expect(error.message).not.toContain('SECRET');
      // Not retried.
      expect(openaiFake.requests.length + anthropicFake.requests.length).toBe(1);
    },
  );

  it('refuses a model whose provider has no key, before any request', () => {
    const registry = createModelRegistry({
      ...providers,
      openai: { apiKey: undefined, baseUrl: providers.openai.baseUrl },
      anthropic: { apiKey: undefined, baseUrl: providers.anthropic.baseUrl },
    });
    for (const [id, variable] of [
      ['openai:gpt-4.1-mini', 'OPENAI_API_KEY'],
      ['anthropic:claude-sonnet-4-5', 'ANTHROPIC_API_KEY'],
      ['openai-compatible:nowhere/model', 'OPENAI_COMPATIBLE_ENDPOINTS'],
      ['openai-compatible:local', 'OPENAI_COMPATIBLE_ENDPOINTS'],
    ] as const) {
      const error = (() => {
        try {
          registry.resolve(id);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind: 'not_configured', message: expect.stringContaining(variable) });
    }
    expect(() => registry.resolve('mystery:model')).toThrow(
      expect.objectContaining({ kind: 'invalid_model', message: expect.stringContaining('Unknown model provider') }),
    );
    expect(() => registry.resolve('openai:')).toThrow(expect.objectContaining({ kind: 'invalid_model' }));
    expect(openaiFake.requests.length + anthropicFake.requests.length).toBe(0);
  });

  it('backs off by itself when the provider sends no retry header', { timeout: 10_000 }, async () => {
    openaiFake.script({ kind: 'status', status: 500, message: 'no header' }, { kind: 'text', chunks: ['late'] });
    const started = Date.now();
    const parts = await collect('openai:gpt-4.1-mini');
    expect(textOf(parts)).toEqual(['late']);
    // The AI SDK's first backoff is 2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(openaiFake.requests).toHaveLength(2);
  });
});
