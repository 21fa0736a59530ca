import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTools, registryWith, say, scriptedModel } from '../fixtures/scripted-model.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

const script = scriptedModel('scripted:basic', [
  callTools({ name: 'calculator', input: { expression: '6*7' } }),
  say('The answer is **42**.'),
]);

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext({ models: registryWith(script) });
});
afterAll(async () => {
  await context.close();
});

describe('POST …/messages', () => {
  it('runs the agent and returns the stored reply with tool calls, html and run metadata', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ configuration: { model: 'scripted:basic', tools: ['calculator'] } });
    const thread = await api.createThread(agent.id);
    const response = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'what is six times seven?',
    });
    expect(response.status).toBe(200);
    const reply = response.body;
    expect(reply).toMatchObject({
      thread_id: thread.id,
      role: 'assistant',
      content: 'The answer is **42**.',
      content_html: '<p>The answer is <strong>42</strong>.</p>\n',
      attachments: [],
      feedback: null,
    });
    expect(reply.tool_calls).toHaveLength(1);
    expect(reply.tool_calls[0]).toMatchObject({
      tool_name: 'calculator',
      arguments: { expression: '6*7' },
      result: { expression: '6*7', result: 42 },
      error: null,
    });
    expect(reply.metadata).toMatchObject({
      model: 'scripted:basic',
      status: 'completed',
      finish_reason: 'stop',
      usage: { input_tokens: 20, output_tokens: 7, total_tokens: 27 },
    });

    const stored = await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`);
    expect(stored.body.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
    expect(stored.body[1]).toEqual(reply);

    const execution = await api.get(`/api/v1/flows/executions/${reply.metadata.run_id}`);
    expect(execution.status).toBe(200);
    expect(execution.body).toMatchObject({
      id: reply.metadata.run_id,
      flow_id: agent.id,
      agent_id: agent.id,
      organization_id: organization.organizationId,
      execution_number: 1,
      trigger_type: 'api',
      priority: 'normal',
      status: 'completed',
      tokens_used: 27,
      tool_calls_count: 1,
      cost_estimate: null,
      error_message: null,
    });
    expect(
      execution.body.steps.map((step: { step_type: string; status: string }) => [step.step_type, step.status]),
    ).toEqual([
      ['llm', 'completed'],
      ['tool', 'completed'],
      ['llm', 'completed'],
    ]);
    expect(execution.body.duration_ms).toBeGreaterThanOrEqual(0);

    const list = await api.get(`/api/v1/flows/executions?agent_id=${agent.id}&status=completed`);
    expect(list.body).toMatchObject({ total_count: 1, page: 1, page_size: 20, has_more: false });
    expect(list.body.executions[0].id).toBe(reply.metadata.run_id);
  });

  it('replays a user message sent again with the same Idempotency-Key, without a second run', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const path = `/api/v1/chat/${agent.id}/threads/${thread.id}/messages`;
    const body = { role: 'user', content: 'calculate 2+2' };
    const first = await api.post(path, body, { 'idempotency-key': 'message-1' });
    expect(first.status).toBe(200);
    const again = await api.post(path, body, { 'idempotency-key': 'message-1' });
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await api.post(path, { ...body, content: 'calculate 3+3' }, { 'idempotency-key': 'message-1' });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
    expect((await api.get(path)).body.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
    expect((await api.get('/api/v1/flows/executions')).body.total_count).toBe(1);
  });

  it('stores other roles without a run', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const response = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'assistant',
      content: 'Imported answer',
      metadata: { source: 'import' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      role: 'assistant',
      content: 'Imported answer',
      tool_calls: [],
      metadata: { source: 'import' },
    });
    const executions = await api.get('/api/v1/flows/executions');
    expect(executions.body.total_count).toBe(0);
  });

  it('answers with the demo model and its tools by default', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const response = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'calculate 17*23',
    });
    expect(response.status).toBe(200);
    expect(response.body.content).toBe("17*23 = 391. (Answered by Parley's offline demo model.)");
    expect(response.body.tool_calls[0].result).toEqual({ expression: '17*23', result: 391 });
  });
});
