import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ModelProvidersConfig } from '../../src/config.js';
import { ModelError, type ModelRequest, type ModelStreamPart } from '../../src/models/model-port.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { startFakeAnthropic, startFakeOpenAi, type FakeServer } from '../fixtures/fake-llm-servers.js';

let openaiFake: FakeServer;
let anthropicFake: FakeServer;
/** Ollama asks for no key. */
let ollamaFake: FakeServer;
let providers: ModelProvidersConfig;

beforeAll(async () => {
  openaiFake = await startFakeOpenAi();
  anthropicFake = await startFakeAnthropic();
  ollamaFake = await startFakeOpenAi('');
  providers = {
    ...loadConfig({}).models,
    openai: { apiKey: 'test-openai-key', baseUrl: `${openaiFake.baseUrl}/v1` },
    anthropic: { apiKey: 'test-anthropic-key', baseUrl: `${anthropicFake.baseUrl}/v1` },
    ollamaBaseUrl: `${ollamaFake.baseUrl}/v1`,
    openaiCompatible: { local: { baseUrl: `${openaiFake.baseUrl}/v1`, apiKey: 'test-openai-key' } },
  };
});
afterAll(async () => {
  await openaiFake.close();
  await anthropicFake.close();
  await ollamaFake.close();
});

const TOOLS = [
  {
    name: 'calculator',
    description: 'Evaluates arithmetic.',
    inputSchema: {
      type: 'object',
      properties: { expression: { type: 'string' } },
      required: ['expression'],
      additionalProperties: false,
    },
  },
];

async function collect(modelId: string, overrides: Partial<ModelRequest> = {}): Promise<ModelStreamPart[]> {
  const model = createModelRegistry(providers).resolve(modelId);
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

describe.each([
  ['openai:gpt-test', () => openaiFake],
  ['openai-compatible:local/llama-test', () => openaiFake],
  ['ollama:llama-test', () => ollamaFake],
  ['anthropic:claude-test', () => anthropicFake],
])('%s through the AI SDK adapter', (modelId, fake) => {
  it('streams text deltas in order, then the finish with usage', async () => {
    fake().next({ kind: 'text', chunks: ['The ', 'answer ', 'is 42.'], usage: { input: 13, output: 3 } });
    const parts = await collect(modelId);
    expect(
      parts
        .filter((part) => part.type === 'text-delta')
        .map((part) => (part as { text: string }).text)
        .join(''),
    ).toBe('The answer is 42.');
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 13, outputTokens: 3 } });
  });

  it('turns a tool call split across chunks into one part with parsed input', async () => {
    fake().next({
      kind: 'tool-calls',
      calls: [{ id: 'call_7', name: 'calculator', argumentChunks: ['{"expr', 'ession":"6*7"}'] }],
    });
    const parts = await collect(modelId);
    expect(parts.filter((part) => part.type === 'tool-call')).toEqual([
      { type: 'tool-call', toolCallId: 'call_7', toolName: 'calculator', input: { expression: '6*7' } },
    ]);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
  });

  it('sends the system prompt, the tools as JSON Schema, and tool results on the next step', async () => {
    fake().next({ kind: 'text', chunks: ['42'] });
    const before = fake().requests.length;
    await collect(modelId, {
      messages: [
        { role: 'user', content: 'what is 6*7?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ toolCallId: 'call_7', toolName: 'calculator', input: { expression: '6*7' } }],
        },
        { role: 'tool', toolCallId: 'call_7', toolName: 'calculator', result: { result: 42 }, isError: false },
      ],
    });
    const sent = JSON.stringify(fake().requests[before]!.body);
    expect(sent).toContain('You are terse.');
    expect(sent).toContain('"calculator"');
    expect(sent).toContain('"expression"');
    expect(sent).toContain('call_7');
    expect(sent).toContain('42');
  });

  it('retries a 429 and succeeds', async () => {
    fake().next({ kind: 'status', status: 429, message: 'slow down' }, { kind: 'text', chunks: ['fine'] });
    const before = fake().requests.length;
    const parts = await collect(modelId);
    expect(parts.some((part) => part.type === 'text-delta' && part.text === 'fine')).toBe(true);
    expect(fake().requests.length - before).toBe(2);
  });

  it('gives up after two retries of a 500 with a provider_error that does not contain the key', async () => {
    fake().next({ kind: 'status', status: 500, message: 'upstream exploded' });
    const before = fake().requests.length;
    const error = await collect(modelId).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).kind).toBe('provider_error');
    expect((error as ModelError).message).toContain('500');
    expect((error as ModelError).message).not.toContain('test-openai-key');
    expect((error as ModelError).message).not.toContain('test-anthropic-key');
    expect(fake().requests.length - before).toBe(3);
  });

  it('fails cleanly, without hanging, on a malformed stream', async () => {
    fake().next({ kind: 'malformed' });
    const outcome = await collect(modelId).then(
      (parts) => ({ parts }),
      (error: unknown) => ({ error }),
    );
    // Either a typed error, or an end without a finish: never a hang, never a crash.
    if ('error' in outcome) expect(outcome.error).toBeInstanceOf(ModelError);
    else expect(outcome.parts.some((part) => part.type === 'finish' && part.finishReason === 'stop')).toBe(false);
  });
});

describe('configuration', () => {
  it('refuses a model whose provider has no key, before any request', () => {
    const registry = createModelRegistry({ ...providers, openai: { apiKey: undefined, baseUrl: undefined } });
    const before = openaiFake.requests.length;
    expect(() => registry.resolve('openai:gpt-test')).toThrow(ModelError);
    expect(() => registry.resolve('openai:gpt-test')).toThrow('OPENAI_API_KEY');
    expect(() => registry.resolve('openai-compatible:nowhere/model')).toThrow('OPENAI_COMPATIBLE_ENDPOINTS');
    expect(() => registry.resolve('mystery:model')).toThrow('Unknown model provider');
    expect(openaiFake.requests.length).toBe(before);
  });
});
