import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOAuthMcpServer, type OAuthMcpServer } from '../fixtures/oauth-mcp-server.js';
import type { LanguageModel } from '../../src/models/model-port.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { followToCallback } from '../helpers/mcp-oauth.js';

/**
 * Sign-in to an OAuth-protected MCP server through Parley's own routes, as a user of the API
 * does it: `connect` answers an authorization URL; the browser's part follows it to Parley's
 * callback; the server is then connected with its tools, which agents call with the stored
 * token. A call that needs a scope the grant lacks leaves the server `needs_authorization` (one
 * step-up, no loop), and the next `connect` signs in again asking for the union of the scopes.
 */
const REDIRECT_URI = 'http://127.0.0.1:8080/api/v1/mcp/oauth/callback';
const models = growingRegistry('mcp-oauth-connect');

let context: TestContext;
let fixture: OAuthMcpServer;

beforeAll(async () => {
  fixture = await startOAuthMcpServer({ redirectUris: [REDIRECT_URI] });
  context = await createTestContext({ models: models.registry, outboundAllow: '127.0.0.1' });
});

afterAll(async () => {
  await context?.close();
  await fixture?.close();
});

const serversUrl = (agentId: string) => `/api/v1/mcp/agents/${agentId}/servers`;

/** The browser's part of a sign-in: the authorization server's redirects, then Parley's callback. */
async function signIn(authorizationUrl: string) {
  const back = await followToCallback(authorizationUrl, REDIRECT_URI);
  const response = await context.parley.app.inject({
    method: 'GET',
    url: `${back.pathname}${back.search}`,
    headers: { accept: 'application/json' },
  });
  expect(response.statusCode, response.body).toBe(200);
}

async function runOnce(api: Api, agentId: string) {
  const thread = await api.createThread(agentId);
  const reply = await api.post(`/api/v1/chat/${agentId}/threads/${thread.id}/messages`, {
    role: 'user',
    content: 'Go.',
  });
  expect(reply.status, reply.raw).toBe(200);
  const messages = await api.get(`/api/v1/chat/${agentId}/threads/${thread.id}/messages?limit=100`);
  return messages.body[1].tool_calls as { tool_name: string; result: unknown; error: string | null }[];
}

describe('MCP OAuth through the API', () => {
  it('signs in from connect, calls tools with the token, and steps up once for a missing scope', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const model = models.script([
      callTools({ name: 'echo', input: { text: 'hello' } }),
      say('Echoed.'),
      callTools({ name: 'admin_echo', input: { text: 'hello' } }),
      say('Refused.'),
    ]);
    const agent = await api.createAgent({ configuration: { model: model.id } });
    const created = await api.post(serversUrl(agent.id), { name: 'Protected', url: fixture.mcpUrl });
    expect(created.status, created.raw).toBe(200);
    const server = created.body as { id: string };
    const serverUrl = `${serversUrl(agent.id)}/${server.id}`;

    const connect = await api.post(`${serverUrl}/connect`, undefined);
    expect(connect.status).toBe(200);
    expect(connect.body).toEqual({
      status: 'authorization_required',
      message: 'The server requires sign-in: sign in at authorization_url',
      authorization_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/),
    });
    expect((await api.get(serverUrl)).body).toMatchObject({
      status: 'needs_authorization',
      status_reason: 'Sign-in required: open the authorization_url',
    });
    // The first sign-in asks for the scope of the server's 401 challenge.
    const first = new URL(connect.body.authorization_url);
    expect(first.searchParams.get('scope')?.split(' ')).toContain('mcp:tools');
    expect(first.searchParams.get('scope')?.split(' ')).not.toContain('mcp:admin');

    await signIn(connect.body.authorization_url);
    expect((await api.get(serverUrl)).body).toMatchObject({ status: 'connected', status_reason: null });
    const tools = (await api.get(`${serverUrl}/tools`)).body as { tool_name: string; tool_type: string }[];
    expect(tools.map((tool) => tool.tool_name).sort()).toEqual(['admin_echo', 'echo']);

    const [echo] = await runOnce(api, agent.id);
    expect(echo).toMatchObject({
      tool_name: 'echo',
      result: { content: [{ type: 'text', text: 'hello' }] },
      error: null,
    });

    const requestsBefore = fixture.authorizationRequests.length;
    const [admin] = await runOnce(api, agent.id);
    expect(admin!.result).toBeNull();
    expect(admin!.error).toContain('insufficient_scope');
    // The step-up happened once and stopped: no sign-in was started behind the user's back.
    expect(fixture.authorizationRequests.length).toBe(requestsBefore);
    const waiting = (await api.get(serverUrl)).body;
    expect(waiting.status).toBe('needs_authorization');
    expect(waiting.status_reason).toContain('mcp:admin');

    const again = await api.post(`${serverUrl}/connect`, undefined);
    expect(again.body.status).toBe('authorization_required');
    const scopes = new URL(again.body.authorization_url).searchParams.get('scope')?.split(' ');
    expect(scopes).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
  });

  it('a revoked grant leaves the server needs_authorization, and connect signs in again', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const model = models.script([callTools({ name: 'echo', input: { text: 'after revocation' } }), say('Failed.')]);
    const agent = await api.createAgent({ configuration: { model: model.id } });
    const server = (await api.post(serversUrl(agent.id), { name: 'Protected', url: fixture.mcpUrl })).body;
    const serverUrl = `${serversUrl(agent.id)}/${server.id}`;
    await signIn((await api.post(`${serverUrl}/connect`, undefined)).body.authorization_url);
    expect((await api.get(serverUrl)).body.status).toBe('connected');

    await fixture.revokeGrants();
    const [call] = await runOnce(api, agent.id);
    expect(call!.result).toBeNull();
    expect(call!.error).toEqual(expect.any(String));
    expect((await api.get(serverUrl)).body.status).toBe('needs_authorization');

    const again = await api.post(`${serverUrl}/connect`, undefined);
    expect(again.body).toMatchObject({ status: 'authorization_required', authorization_url: expect.any(String) });
    await signIn(again.body.authorization_url);
    expect((await api.get(serverUrl)).body.status).toBe('connected');
  });

  it('two app instances over one database spend a rotating refresh token once, and both calls succeed', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    // Each run calls echo once, then answers: runs of both instances may interleave their steps.
    const model = models.add(echoOnce(models.freshId('echo-once')));
    const agent = await api.createAgent({ configuration: { model: model.id } });
    const server = (await api.post(serversUrl(agent.id), { name: 'Protected', url: fixture.mcpUrl })).body;
    const serverUrl = `${serversUrl(agent.id)}/${server.id}`;
    await signIn((await api.post(`${serverUrl}/connect`, undefined)).body.authorization_url);
    const other = await context.peer();
    const threads = [(await api.createThread(agent.id)).id, (await api.createThread(agent.id)).id];

    // Every access token is refused from now on, and the token endpoint is slow: both instances
    // meet a 401 at once and both want to refresh with the same (rotating) refresh token.
    fixture.invalidateAccessTokens();
    fixture.tokenDelayMs = 300;
    const refreshes = fixture.counts.refresh;
    try {
      const replies = await Promise.all(
        [context.parley, other.parley].map((parley, index) =>
          parley.app.inject({
            method: 'POST',
            url: `/api/v1/chat/${agent.id}/threads/${threads[index]}/messages`,
            headers: { 'x-api-key': organization.key, 'content-type': 'application/json' },
            payload: { role: 'user', content: 'Echo.' },
          }),
        ),
      );
      expect(replies.map((reply) => reply.statusCode)).toEqual([200, 200]);
    } finally {
      fixture.tokenDelayMs = 0;
    }
    expect(fixture.counts.refresh).toBe(refreshes + 1);
    for (const threadId of threads) {
      const messages = await api.get(`/api/v1/chat/${agent.id}/threads/${threadId}/messages?limit=100`);
      expect(messages.body[1].tool_calls).toMatchObject([
        { tool_name: 'echo', result: { content: [{ type: 'text', text: 'both' }] }, error: null },
      ]);
    }
    expect((await api.get(serverUrl)).body.status).toBe('connected');
  });
});

/** A model that calls `echo` when the user spoke last, and answers once the tool did. */
function echoOnce(id: string): LanguageModel {
  const usage = { inputTokens: 1, outputTokens: 1 };
  return {
    id,
    async *stream(request) {
      if (request.messages.at(-1)?.role === 'user') {
        yield { type: 'tool-call', toolCallId: 'call_echo', toolName: 'echo', input: { text: 'both' } };
        yield { type: 'finish', finishReason: 'tool-calls', usage };
        return;
      }
      yield { type: 'text-delta', text: 'Echoed.' };
      yield { type: 'finish', finishReason: 'stop', usage };
    },
  };
}
