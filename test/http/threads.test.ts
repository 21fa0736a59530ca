import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, seedMessage, type TestContext } from '../helpers/harness.js';
import { UUID_V7_PATTERN } from '../helpers/ids.js';

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context.close();
});

describe('POST /api/v1/chat/{agent_id}/threads', () => {
  it('creates a thread exactly as the reference page shows', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const response = await api.post(`/api/v1/chat/${agent.id}/threads`, {
      agent_id: agent.id,
      title: 'Refund question',
      metadata: { channel: 'web' },
    });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(
      [
        'agent_id',
        'anon_user_id',
        'created_at',
        'id',
        'messages',
        'metadata',
        'organization_id',
        'title',
        'updated_at',
        'user_id',
      ].sort(),
    );
    expect(response.body).toMatchObject({
      agent_id: agent.id,
      user_id: organization.userId,
      anon_user_id: null,
      organization_id: organization.organizationId,
      title: 'Refund question',
      metadata: { channel: 'web' },
      messages: [],
    });
    expect(response.body.id).toMatch(UUID_V7_PATTERN);
    expect(response.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(response.body.updated_at).toBe(response.body.created_at);

    const stored = await api.get(`/api/v1/chat/${agent.id}/threads/${response.body.id}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(response.body);
  });

  it('embeds messages with tool calls in order, and lists them with paging and suggestion filtering', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    await seedMessage(context, {
      organizationId: organization.organizationId,
      threadId: thread.id,
      content: 'what time is it?',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    await seedMessage(context, {
      organizationId: organization.organizationId,
      threadId: thread.id,
      role: 'assistant',
      content: 'It is noon.\n\n<suggestions>\n- And tomorrow?\n</suggestions>',
      createdAt: '2026-01-01T00:00:01.000Z',
      toolCalls: [{ tool_name: 'current_time', arguments: { zone: 'UTC' }, result: { time: '12:00' } }],
    });
    const got = await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}`);
    expect(got.body.messages.map((message: { content: string }) => message.content)).toEqual([
      'what time is it?',
      'It is noon.\n\n<suggestions>\n- And tomorrow?\n</suggestions>',
    ]);
    expect(got.body.messages[1].tool_calls).toEqual([
      {
        tool_name: 'current_time',
        arguments: { zone: 'UTC' },
        result: { time: '12:00' },
        error: null,
        start_time: '2026-01-01T00:00:01.000Z',
        end_time: '2026-01-01T00:00:01.000Z',
      },
    ]);

    const page = await api.get(
      `/api/v1/chat/${agent.id}/threads/${thread.id}/messages?limit=1&offset=1&filter_suggestions=true`,
    );
    expect(page.status).toBe(200);
    expect(page.body).toHaveLength(1);
    expect(page.body[0].content).toBe('It is noon.');
    expect(page.body[0].feedback).toBeNull();
  });
});
