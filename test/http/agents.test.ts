import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { BLANK_TEMPLATE, SUPPORT_TEMPLATE } from '../helpers/ids.js';

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context.close();
});

describe('templates', () => {
  it('lists the built-in templates with fixed ids', async () => {
    const organization = await context.newOrganization(['read']);
    const response = await client(context, organization.key).get('/api/v1/templates');
    expect(response.status).toBe(200);
    expect(response.body.map((template: { id: string; name: string }) => [template.id, template.name])).toEqual([
      [BLANK_TEMPLATE, 'Blank agent'],
      [SUPPORT_TEMPLATE, 'Support agent'],
    ]);
    expect(response.body[0].configuration.model).toBe('demo');
  });
});

describe('agents', () => {
  it('creates an agent from a template, with the contract’s fields', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const response = await api.post('/api/v1/agents', {
      name: 'Helpdesk',
      description: 'Answers tickets',
      configuration: { tone: 'Friendly', language: 'English', team_size: 5 },
      template_id: SUPPORT_TEMPLATE,
      metadata: { created_by: 'alice' },
    });
    expect(response.status).toBe(200);
    const agent = response.body;
    expect(Object.keys(agent).sort()).toEqual(
      [
        'avatar_url',
        'bot_sub',
        'completed_flows_count',
        'configuration',
        'created_at',
        'description',
        'files',
        'id',
        'metadata',
        'name',
        'organization_id',
        'pending_flows_count',
        'status',
        'team_id',
        'template_id',
        'updated_at',
      ].sort(),
    );
    expect(agent).toMatchObject({
      name: 'Helpdesk',
      description: 'Answers tickets',
      avatar_url: null,
      template_id: SUPPORT_TEMPLATE,
      organization_id: organization.organizationId,
      status: 'active',
      metadata: { created_by: 'alice' },
      files: [],
      team_id: null,
      completed_flows_count: 0,
      pending_flows_count: 0,
    });
    // The template's configuration, with the given keys laid over it.
    expect(agent.configuration).toMatchObject({
      model: 'demo',
      tools: ['current_time', 'calculator'],
      tone: 'Friendly',
      language: 'English',
      team_size: 5,
    });
    expect(agent.bot_sub).toMatch(/^[A-Z0-9]{29}$/);
    expect(await api.get(`/api/v1/agents/${agent.id}`)).toMatchObject({ status: 200, body: agent });
  });

  it('lists newest first, filters by status and pages', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const first = await api.createAgent({ name: 'one' });
    const second = await api.createAgent({ name: 'two', status: 'inactive' });
    const third = await api.createAgent({ name: 'three' });
    const all = await api.get('/api/v1/agents');
    expect(all.body.map((agent: { id: string }) => agent.id)).toEqual([third.id, second.id, first.id]);
    const inactive = await api.get('/api/v1/agents?status=inactive');
    expect(inactive.body.map((agent: { id: string }) => agent.id)).toEqual([second.id]);
    const page = await api.get('/api/v1/agents?limit=1&offset=1');
    expect(page.body.map((agent: { id: string }) => agent.id)).toEqual([second.id]);
    expect((await api.get('/api/v1/agents?status=archived')).body).toEqual([]);
  });

  it('updates only the fields given (PUT is a partial update) and bumps updated_at', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ name: 'before', description: 'kept' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const response = await api.put(`/api/v1/agents/${agent.id}`, {
      name: 'after',
      status: 'inactive',
      configuration: { model: 'demo', tone: 'Calm' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: agent.id,
      name: 'after',
      description: 'kept',
      status: 'inactive',
      configuration: { model: 'demo', tone: 'Calm' },
      created_at: agent.created_at,
    });
    expect(response.body.updated_at > (agent.updated_at as string)).toBe(true);
    expect((await api.get(`/api/v1/agents/${agent.id}`)).body).toEqual(response.body);
  });

  it('deletes an agent with its threads (extension)', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const deleted = await api.delete(`/api/v1/agents/${agent.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.raw).toBe('');
    expect((await api.get(`/api/v1/agents/${agent.id}`)).body.code).toBe('agent_not_found');
    expect(
      await context.store.threads.get({
        organizationId: organization.organizationId,
        agentId: agent.id,
        id: thread.id,
      }),
    ).toBeNull();
    expect((await api.delete(`/api/v1/agents/${agent.id}`)).status).toBe(404);
  });
});

describe('chat threads', () => {
  it('lists an agent’s threads newest first, pages, and can leave messages out', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const other = await api.createAgent();
    const created = [];
    for (let index = 0; index < 5; index += 1) created.push(await api.createThread(agent.id, { title: `t${index}` }));
    await api.createThread(other.id);

    const all = await api.get(`/api/v1/chat/${agent.id}/threads`);
    expect(all.status).toBe(200);
    expect(all.body.map((thread: { title: string }) => thread.title)).toEqual(['t4', 't3', 't2', 't1', 't0']);
    const pages = [];
    for (let offset = 0; offset < 5; offset += 2) {
      const page = await api.get(`/api/v1/chat/${agent.id}/threads?limit=2&offset=${offset}&include_messages=false`);
      pages.push(...page.body.map((thread: { title: string }) => thread.title));
    }
    expect(pages).toEqual(['t4', 't3', 't2', 't1', 't0']);
  });

  it('renames a thread and replaces its metadata (PATCH, extension)', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id, { metadata: { a: '1' } });
    const response = await api.patch(`/api/v1/chat/${agent.id}/threads/${thread.id}`, {
      title: 'Renamed',
      metadata: { b: 2 },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: thread.id, title: 'Renamed', metadata: { b: 2 }, messages: [] });
    expect((await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}`)).body.title).toBe('Renamed');
  });

  it('deletes a thread (204) with its messages, tool calls and feedback', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const { seedMessage } = await import('../helpers/harness.js');
    const messageId = await seedMessage(context, {
      organizationId: organization.organizationId,
      threadId: thread.id,
      role: 'assistant',
      content: 'hi',
      toolCalls: [{ tool_name: 'calculator', arguments: { expression: '1+1' }, result: 2 }],
    });
    await context.store.write((writers) =>
      writers.messages.insertFeedback({
        id: crypto.randomUUID(),
        organization_id: organization.organizationId,
        thread_id: thread.id,
        user_id: organization.userId,
        human_message_id: null,
        ai_message_id: messageId,
        flow_execution_id: null,
        feedback_type: 'positive',
        issue_type: null,
        comment: null,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      }),
    );
    const before = await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`);
    expect(before.body[0].feedback.feedback_type).toBe('positive');

    const deleted = await api.delete(`/api/v1/chat/${agent.id}/threads/${thread.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.raw).toBe('');
    expect((await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}`)).body.code).toBe('thread_not_found');
    const remaining = await context.store.messages.listForThreads({
      organizationId: organization.organizationId,
      threadIds: [thread.id],
    });
    expect(remaining.get(thread.id)).toEqual([]);
    expect((await api.delete(`/api/v1/chat/${agent.id}/threads/${thread.id}`)).status).toBe(404);
  });

  it('clears all chats of one agent and leaves other agents’ threads', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const other = await api.createAgent();
    await api.createThread(agent.id);
    await api.createThread(agent.id);
    const kept = await api.createThread(other.id);
    const response = await api.delete(`/api/v1/chat/clear-all-chats?agent_id=${agent.id}`);
    expect(response).toMatchObject({ status: 200, body: {} });
    expect((await api.get(`/api/v1/chat/${agent.id}/threads`)).body).toEqual([]);
    expect((await api.get(`/api/v1/chat/${other.id}/threads`)).body.map((thread: { id: string }) => thread.id)).toEqual(
      [kept.id],
    );
    const missing = await api.delete('/api/v1/chat/clear-all-chats');
    expect(missing.status).toBe(422);
    expect(missing.body.detail[0].loc).toEqual(['query', 'agent_id']);
  });

  it('accepts upper-case UUIDs in paths', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const response = await api.get(`/api/v1/chat/${agent.id.toUpperCase()}/threads/${thread.id.toUpperCase()}`);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(thread.id);
  });

  it('accepts upper-case UUIDs in query strings', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    await api.createThread(agent.id);
    const executions = await api.get(`/api/v1/flows/executions?agent_id=${agent.id.toUpperCase()}`);
    expect(executions.status).toBe(200);
    const cleared = await api.delete(`/api/v1/chat/clear-all-chats?agent_id=${agent.id.toUpperCase()}`);
    expect(cleared.status).toBe(200);
    expect((await api.get(`/api/v1/chat/${agent.id}/threads`)).body).toEqual([]);
  });
});

describe('health and documentation', () => {
  it('serves /healthz, /readyz, /openapi.json (3.1, extensions marked) and /docs without a key', async () => {
    const inject = (url: string) => context.parley.app.inject({ method: 'GET', url });
    expect((await inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await inject('/readyz')).json()).toEqual({ status: 'ready' });
    const spec = (await inject('/openapi.json')).json();
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.components.securitySchemes.APIKeyHeader).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(spec.paths['/api/v1/chat/{agent_id}/threads'].post.requestBody).toBeDefined();
    expect(spec.paths['/api/v1/chat/{agent_id}/threads/{thread_id}'].patch['x-parley-extension']).toBe(true);
    expect(spec.paths['/api/v1/chat/{agent_id}/threads'].post['x-parley-extension']).toBeUndefined();
    const docs = await inject('/docs');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
    expect(docs.body).toContain('swagger-ui');
    const bundle = await inject('/docs/static/swagger-ui-bundle.js');
    expect(bundle.statusCode).toBe(200);
    expect((await inject('/docs/json')).json().openapi).toBe('3.1.0');
  });

  it('answers a malformed URL with the standard envelope and headers', async () => {
    const response = await context.parley.app.inject({ method: 'GET', url: '/api/v1/agents/%zz' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      detail: expect.stringContaining('Bad request'),
      code: 'bad_request',
      request_id: response.headers['x-request-id'],
    });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('reports not ready while shutting down, and refuses new requests with the envelope', async () => {
    const other = await createTestContext();
    try {
      other.parley.beginShutdown();
      const response = await other.parley.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json().code).toBe('service_unavailable');
      const api = await other.parley.app.inject({ method: 'GET', url: '/api/v1/agents' });
      expect(api.statusCode).toBe(503);
      expect(api.headers.connection).toBe('close');
      expect(api.json()).toEqual({
        detail: 'The server is shutting down or not ready.',
        code: 'service_unavailable',
        request_id: api.headers['x-request-id'],
      });
    } finally {
      await other.close();
    }
  });
});
