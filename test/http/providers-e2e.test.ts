import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { startFakeAnthropic, startFakeOpenAi, type FakeServer } from '../fixtures/fake-llm-servers.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

/** The whole app against fake vendors on loopback: configuration → adapter → runtime → store. */
let openaiFake: FakeServer;
let anthropicFake: FakeServer;
let context: TestContext;

beforeAll(async () => {
  openaiFake = await startFakeOpenAi();
  anthropicFake = await startFakeAnthropic();
  context = await createTestContext({
    models: createModelRegistry({
      ...loadConfig({}).models,
      openai: { apiKey: 'test-openai-key', baseUrl: `${openaiFake.baseUrl}/v1` },
      anthropic: { apiKey: 'test-anthropic-key', baseUrl: `${anthropicFake.baseUrl}/v1` },
    }),
  });
});
afterAll(async () => {
  await context.close();
  await openaiFake.close();
  await anthropicFake.close();
});

describe.each([
  ['openai:gpt-4.1-mini', () => openaiFake],
  ['anthropic:claude-sonnet-4-5', () => anthropicFake],
])('an agent on %s', (model, fake) => {
  it('calls the tool the model asks for and stores the answer built on its result', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ configuration: { model, tools: ['calculator'] } });
    const thread = await api.createThread(agent.id);
    fake().next(
      {
        kind: 'tool-calls',
        calls: [{ id: 'call_1', name: 'calculator', argumentChunks: ['{"expression":', '"17*23"}'] }],
      },
      { kind: 'text', chunks: ['17 × 23 ', 'is **391**.'], usage: { input: 40, output: 6 } },
    );
    const response = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'What is 17 times 23?',
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      role: 'assistant',
      content: '17 × 23 is **391**.',
      content_html: '<p>17 × 23 is <strong>391</strong>.</p>\n',
      metadata: { model, status: 'completed', finish_reason: 'stop' },
    });
    expect(response.body.tool_calls).toMatchObject([
      {
        tool_name: 'calculator',
        arguments: { expression: '17*23' },
        result: { expression: '17*23', result: 391 },
        error: null,
      },
    ]);
    const execution = await api.get(`/api/v1/flows/executions/${response.body.metadata.run_id}`);
    expect(execution.body).toMatchObject({ status: 'completed', tool_calls_count: 1 });
    expect(execution.body.cost_estimate).toBeGreaterThan(0);
    // The second model call carried the tool's result back.
    expect(JSON.stringify(fake().requests.at(-1)!.body)).toContain('391');
  });

  it('answers 502 model_error when the provider keeps failing, and stores the run as failed', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ configuration: { model, tools: [] } });
    const thread = await api.createThread(agent.id);
    fake().next({ kind: 'status', status: 500, message: 'upstream exploded' });
    const response = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'hi',
    });
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({
      code: 'model_error',
      detail: 'The model provider answered 500: upstream exploded',
    });
    const executions = await api.get(`/api/v1/flows/executions?agent_id=${agent.id}`);
    expect(executions.body.executions.map((execution: { status: string }) => execution.status)).toEqual(['failed']);
    const messages = await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`);
    expect(
      messages.body.map((message: { role: string; metadata: { status?: string } }) => [
        message.role,
        message.metadata.status ?? null,
      ]),
    ).toEqual([
      ['user', null],
      ['assistant', 'failed'],
    ]);
  });
});

it('refuses a user message when the agent’s provider has no key, storing nothing', async () => {
  const bare = await createTestContext();
  try {
    const organization = await bare.newOrganization();
    const api = client(bare, organization.key);
    const agent = await api.createAgent({ configuration: { model: 'openai:gpt-4.1-mini' } });
    const thread = await api.createThread(agent.id);
    const response = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'hi',
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 'model_not_configured',
      detail: expect.stringContaining('OPENAI_API_KEY'),
    });
    expect((await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`)).body).toEqual([]);
  } finally {
    await bare.close();
  }
});
