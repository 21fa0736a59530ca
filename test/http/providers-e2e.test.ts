import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { startFakeAnthropicServer } from '../fixtures/fake-anthropic-server.js';
import { startFakeOpenAiServer, type FakeVendorServer } from '../fixtures/fake-openai-server.js';
import { client, createAgentThread, createTestContext, type TestContext } from '../helpers/harness.js';

/**
 * The whole app against fake vendors on loopback: configuration → registry → AI SDK adapter →
 * runtime → store → HTTP answer.
 */
const OPENAI_KEY = 'sk-openai-SECRET-e2e-0123456789';
const ANTHROPIC_KEY = 'sk-ant-SECRET-e2e-0123456789';

let openaiFake: FakeVendorServer;
let anthropicFake: FakeVendorServer;
let context: TestContext;

beforeAll(async () => {
  openaiFake = await startFakeOpenAiServer({ apiKey: OPENAI_KEY });
  anthropicFake = await startFakeAnthropicServer({ apiKey: ANTHROPIC_KEY });
  context = await createTestContext({
    models: createModelRegistry({
      ...loadConfig({}).models,
      openai: { apiKey: OPENAI_KEY, baseUrl: `${openaiFake.baseUrl}/v1` },
      anthropic: { apiKey: ANTHROPIC_KEY, baseUrl: `${anthropicFake.baseUrl}/v1` },
    }),
  });
});
afterAll(async () => {
  await context?.close();
  await openaiFake?.close();
  await anthropicFake?.close();
});
beforeEach(() => {
  openaiFake.reset();
  anthropicFake.reset();
});

async function agentAndThread(model: string, tools: string[]) {
  const { api, agent, thread } = await createAgentThread(context, { model, tools });
  const messagesUrl = `/api/v1/chat/${agent.id}/threads/${thread.id}/messages`;
  return { api, agent, thread, messagesUrl };
}

/** The tool result the model was sent on its second step, whatever the wire format. */
function toolResultSent(wire: 'openai' | 'anthropic', body: any, toolCallId: string): unknown {
  if (wire === 'openai') {
    const message = body.messages.find((entry: any) => entry.role === 'tool' && entry.tool_call_id === toolCallId);
    return JSON.parse(message.content);
  }
  const block = body.messages
    .flatMap((entry: any) => (Array.isArray(entry.content) ? entry.content : []))
    .find((entry: any) => entry.type === 'tool_result' && entry.tool_use_id === toolCallId);
  return JSON.parse(block.content);
}

describe.each([
  { model: 'openai:gpt-4.1-mini', wire: 'openai' as const, fake: () => openaiFake, price: [0.4, 1.6] },
  { model: 'anthropic:claude-sonnet-4-5', wire: 'anthropic' as const, fake: () => anthropicFake, price: [3, 15] },
])('an agent on $model', ({ model, wire, fake, price }) => {
  it('calls the tool the model asks for and stores the answer built on its result', { timeout: 10_000 }, async () => {
    const { api, agent, messagesUrl } = await agentAndThread(model, ['calculator']);
    fake().script(
      {
        kind: 'tool-calls',
        calls: [{ id: 'call_1', name: 'calculator', argumentsChunks: ['{"expres', 'sion":', '"17*23"}'] }],
        usage: { inputTokens: 20, outputTokens: 9 },
      },
      { kind: 'text', chunks: ['17 × 23 ', 'is **391**.'], usage: { inputTokens: 40, outputTokens: 6 } },
    );
    const response = await api.post(messagesUrl, { role: 'user', content: 'What is 17 times 23?' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      role: 'assistant',
      content: '17 × 23 is **391**.',
      content_html: '<p>17 × 23 is <strong>391</strong>.</p>\n',
      metadata: {
        model,
        status: 'completed',
        finish_reason: 'stop',
        usage: { input_tokens: 60, output_tokens: 15, total_tokens: 75 },
      },
    });
    expect(response.body.tool_calls).toMatchObject([
      {
        tool_name: 'calculator',
        arguments: { expression: '17*23' },
        result: { expression: '17*23', result: 391 },
        error: null,
      },
    ]);

    const stored = await api.get(messagesUrl);
    expect(stored.body.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
    expect(stored.body[1]).toEqual(response.body);
    const execution = await api.get(`/api/v1/flows/executions/${response.body.metadata.run_id}`);
    expect(execution.body).toMatchObject({
      agent_id: agent.id,
      status: 'completed',
      tool_calls_count: 1,
      tokens_used: 75,
      error_message: null,
    });
    expect(execution.body.cost_estimate).toBeCloseTo((60 * price[0]! + 15 * price[1]!) / 1_000_000, 12);

    // Two model calls: the first with the tool declared, the second with its result.
    expect(fake().requests).toHaveLength(2);
    expect(fake().pending()).toBe(0);
    const [first, second] = fake().requests.map((request) => request.body);
    const declared = wire === 'openai' ? first.tools[0].function : first.tools[0];
    expect(declared).toMatchObject({ name: 'calculator' });
    expect(declared[wire === 'openai' ? 'parameters' : 'input_schema']).toMatchObject({ type: 'object' });
    expect(JSON.stringify(first)).toContain('What is 17 times 23?');
    expect(toolResultSent(wire, second, 'call_1')).toEqual({ expression: '17*23', result: 391 });
  });

  it(
    'answers 502 model_error when the provider keeps failing, and stores the run as failed',
    {
      timeout: 10_000,
    },
    async () => {
      const { api, agent, messagesUrl } = await agentAndThread(model, []);
      const failing = { kind: 'status' as const, status: 500, message: 'upstream exploded', retryAfterMs: 5 };
      fake().script(failing, failing, failing);
      const response = await api.post(messagesUrl, { role: 'user', content: 'hi' });
      expect(response.status).toBe(502);
      expect(response.body).toMatchObject({
        code: 'model_error',
        detail: 'The model provider answered 500: upstream exploded',
      });
      expect(response.raw).not.toContain('SECRET');
      // Two retries, then the error.
      expect(fake().requests).toHaveLength(3);

      const executions = await api.get(`/api/v1/flows/executions?agent_id=${agent.id}`);
      expect(executions.body.executions).toHaveLength(1);
      const execution = await api.get(`/api/v1/flows/executions/${executions.body.executions[0].id}`);
      expect(execution.body).toMatchObject({ status: 'failed', error_message: expect.stringContaining('500') });
      expect(execution.raw).not.toContain('SECRET');
      const messages = await api.get(messagesUrl);
      expect(
        messages.body.map((message: { role: string; metadata: { status?: string } }) => [
          message.role,
          message.metadata.status ?? null,
        ]),
      ).toEqual([
        ['user', null],
        ['assistant', 'failed'],
      ]);
    },
  );

  it('answers 502 model_error, not a crash, when the stream is cut in the middle', { timeout: 10_000 }, async () => {
    const { api, agent, messagesUrl } = await agentAndThread(model, []);
    fake().script({ kind: 'cut', of: { kind: 'text', chunks: ['Half ', 'an ', 'answer'] }, afterChunks: 2 });
    const response = await api.post(messagesUrl, { role: 'user', content: 'hi' });
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({
      code: 'model_error',
      detail: 'The model provider could not be reached or sent a broken response',
    });
    const executions = await api.get(`/api/v1/flows/executions?agent_id=${agent.id}`);
    expect(executions.body.executions.map((execution: { status: string }) => execution.status)).toEqual(['failed']);
  });
});

it('refuses a user message when the agent’s provider has no key, storing nothing', { timeout: 10_000 }, async () => {
  // The same server configuration, without an OpenAI key.
  const keyless = await createTestContext({
    models: createModelRegistry({
      ...loadConfig({}).models,
      anthropic: { apiKey: ANTHROPIC_KEY, baseUrl: `${anthropicFake.baseUrl}/v1` },
    }),
  });
  try {
    const organization = await keyless.newOrganization();
    const api = client(keyless, organization.key);
    const agent = await api.createAgent({ configuration: { model: 'openai:gpt-4.1-mini', tools: ['calculator'] } });
    const thread = await api.createThread(agent.id);
    const messagesUrl = `/api/v1/chat/${agent.id}/threads/${thread.id}/messages`;
    const response = await api.post(messagesUrl, { role: 'user', content: 'hi' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 'model_not_configured',
      detail: expect.stringContaining('OPENAI_API_KEY'),
    });
    expect((await api.get(messagesUrl)).body).toEqual([]);
    expect((await api.get(`/api/v1/flows/executions?agent_id=${agent.id}`)).body.executions).toEqual([]);
    expect(openaiFake.requests).toHaveLength(0);
  } finally {
    await keyless.close();
  }
});
