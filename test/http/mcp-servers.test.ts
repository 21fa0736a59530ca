import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MASK } from '../../src/security/secret-box.js';
import { startEverythingServer } from '../fixtures/mcp-everything.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { UUID_PATTERN } from '../helpers/ids.js';
import { createStubResolver, startCountingListener } from '../helpers/ssrf-vectors.js';

/**
 * The mcp-servers family (docs/mcp.md) against `@modelcontextprotocol/server-everything` on
 * loopback (allowed by OUTBOUND_ALLOW): registration, connect over Streamable HTTP and the
 * legacy HTTP+SSE fallback, the tools catalogue, agents calling MCP tools through the scripted
 * model, the connection pool, health checks, and the T18/T19 rules for MCP URLs.
 */

const models = growingRegistry('mcp-servers');
let context: TestContext;
let everything: Awaited<ReturnType<typeof startEverythingServer>>;
let legacy: Awaited<ReturnType<typeof startEverythingServer>>;

beforeAll(async () => {
  everything = await startEverythingServer();
  legacy = await startEverythingServer({ legacyOnly: true });
  context = await createTestContext({ models: models.registry, outboundAllow: '127.0.0.1' });
});
afterAll(async () => {
  await context?.close();
  await everything?.close();
  await legacy?.close();
});

const serversUrl = (agentId: string) => `/api/v1/mcp/agents/${agentId}/servers`;

async function agentWith(configuration: Record<string, unknown> = {}) {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const agent = await api.createAgent({ configuration });
  return { organization, api, agent };
}

async function registered(api: Api, agentId: string, body: Record<string, unknown>) {
  const response = await api.post(serversUrl(agentId), { name: 'Everything', url: everything.url, ...body });
  expect(response.status, response.raw).toBe(200);
  return response.body;
}

async function connected(api: Api, agentId: string, url = everything.url) {
  const server = await registered(api, agentId, { url });
  const connect = await api.post(`${serversUrl(agentId)}/${server.id}/connect`, undefined);
  expect(connect.status, connect.raw).toBe(200);
  return server;
}

describe('registering MCP servers', () => {
  it('stores the server without contacting it, secrets sealed and shown masked', async () => {
    const { organization, api, agent } = await agentWith();
    const before = everything.requests.length;
    const response = await api.post(serversUrl(agent.id), {
      name: 'Docs',
      url: everything.url,
      agent_id: agent.id,
      auth_config: {
        type: 'oauth2',
        client_id: 'parley',
        client_secret: 'client-secret-1234',
        headers: { 'X-Api-Key': 'header-secret-5678' },
      },
      health_check_url: null,
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      agent_id: agent.id,
      name: 'Docs',
      url: everything.url,
      auth_config: {
        type: 'oauth2',
        client_id: 'parley',
        client_secret: `${MASK}1234`,
        headers: { 'X-Api-Key': `${MASK}5678` },
      },
      health_check_url: null,
      tool_discovery_endpoint: '/tools',
      status: 'registered',
      status_reason: null,
      last_health_check: null,
      created_at: expect.any(String),
      updated_at: response.body.created_at,
    });
    expect(everything.requests.length).toBe(before);
    const row = await context.store.mcpServers.get({
      organizationId: organization.organizationId,
      agentId: agent.id,
      id: response.body.id,
    });
    expect(row?.auth_config?.client_id).toBe('parley');
    expect(String(row?.auth_config?.client_secret)).not.toContain('client-secret-1234');
    expect(JSON.stringify(row)).not.toContain('header-secret-5678');
    const listed = await api.get(serversUrl(agent.id));
    expect(listed.body).toEqual([response.body]);
    expect(JSON.stringify(listed.body)).not.toContain('client-secret-1234');
  });

  it('keeps a masked secret sent back, and marks a changed URL registered again', async () => {
    const { api, agent } = await agentWith();
    const server = await registered(api, agent.id, { auth_config: { type: 'bearer', token: 'token-abcd-9876' } });
    const renamed = await api.put(`${serversUrl(agent.id)}/${server.id}`, {
      name: 'Renamed',
      auth_config: { type: 'bearer', token: `${MASK}9876` },
    });
    expect(renamed.status).toBe(200);
    expect({ name: renamed.body.name, auth: renamed.body.auth_config }).toEqual({
      name: 'Renamed',
      auth: { type: 'bearer', token: `${MASK}9876` },
    });
    const wrongMask = await api.put(`${serversUrl(agent.id)}/${server.id}`, { auth_config: { token: `${MASK}0000` } });
    expect(wrongMask.status).toBe(422);
    expect(wrongMask.body.detail[0].loc).toEqual(['body', 'auth_config', 'token']);
    const status = await api.put(`${serversUrl(agent.id)}/${server.id}`, { status: 'connected' });
    expect(status.status).toBe(422);
    const one = await api.get(`${serversUrl(agent.id)}/${server.id}`);
    expect(one.body).toEqual(renamed.body);
  });

  it('refuses URLs the guarded client may not reach (422 url_not_allowed) and non-http schemes', async () => {
    const { api, agent } = await agentWith();
    for (const url of ['http://10.0.0.1/mcp', 'http://localhost/mcp', 'http://169.254.169.254/', 'http://[::1]/mcp']) {
      const response = await api.post(serversUrl(agent.id), { name: 'Bad', url });
      expect({ url, status: response.status, code: response.body.code }).toEqual({
        url,
        status: 422,
        code: 'url_not_allowed',
      });
      const health = await api.post(serversUrl(agent.id), { name: 'Bad', url: everything.url, health_check_url: url });
      expect({ url, status: health.status, code: health.body.code }).toEqual({
        url,
        status: 422,
        code: 'url_not_allowed',
      });
    }
    const stdio = await api.post(serversUrl(agent.id), { name: 'Local', url: 'stdio:local' });
    expect({ status: stdio.status, loc: stdio.body.detail[0].loc }).toEqual({ status: 422, loc: ['body', 'url'] });
    const server = await registered(api, agent.id, {});
    const update = await api.put(`${serversUrl(agent.id)}/${server.id}`, { url: 'http://192.168.1.1/mcp' });
    expect({ status: update.status, code: update.body.code }).toEqual({ status: 422, code: 'url_not_allowed' });
    const mismatched = await api.post(serversUrl(agent.id), { name: 'X', url: everything.url, agent_id: server.id });
    expect(mismatched.status).toBe(422);
    expect((await api.get(serversUrl(agent.id))).body).toHaveLength(1);
  });

  it('is 404 for another organisation, and filters the list by status', async () => {
    const { api, agent } = await agentWith();
    const server = await registered(api, agent.id, {});
    const other = client(context, (await context.newOrganization()).key);
    const foreign = await other.get(`${serversUrl(agent.id)}/${server.id}`);
    expect({ status: foreign.status, code: foreign.body.code }).toEqual({ status: 404, code: 'agent_not_found' });
    const { api: api2, agent: agent2 } = await agentWith();
    const wrongAgent = await api2.get(`${serversUrl(agent2.id)}/${server.id}`);
    expect({ status: wrongAgent.status, code: wrongAgent.body.code }).toEqual({
      status: 404,
      code: 'mcp_server_not_found',
    });
    expect((await api.get(`${serversUrl(agent.id)}?status=registered`)).body).toHaveLength(1);
    expect((await api.get(`${serversUrl(agent.id)}?status=connected`)).body).toEqual([]);
  });
});

describe('connecting to server-everything', () => {
  it('connects over Streamable HTTP and syncs its tools with their schemas intact', async () => {
    const { api, agent } = await agentWith();
    const server = await registered(api, agent.id, {});
    const connect = await api.post(`${serversUrl(agent.id)}/${server.id}/connect`, undefined);
    expect(connect.body).toEqual({ status: 'success', message: 'Connection successful', authorization_url: null });
    const stored = await api.get(`${serversUrl(agent.id)}/${server.id}`);
    expect({ status: stored.body.status, reason: stored.body.status_reason }).toEqual({
      status: 'connected',
      reason: null,
    });
    const tools = await api.get(`${serversUrl(agent.id)}/${server.id}/tools`);
    const names = tools.body.map((tool: { tool_name: string }) => tool.tool_name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-tiny-image', 'always-fails']));
    const sum = tools.body.find((tool: { tool_name: string }) => tool.tool_name === 'get-sum');
    expect(sum).toMatchObject({
      tool_type: 'mcp_server',
      mcp_server_id: server.id,
      is_enabled: true,
      configuration: {
        mcp_tool_name: 'get-sum',
        input_schema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } },
      },
    });
    const agentTools = await api.get(`/api/v1/agents/${agent.id}/tools?tool_type=mcp_server`);
    expect(agentTools.body).toEqual(tools.body);
  });

  it('falls back to the legacy HTTP+SSE transport when /mcp answers 404', async () => {
    const { api, agent } = await agentWith();
    const server = await connected(api, agent.id, legacy.sseUrl);
    const tools = await api.get(`${serversUrl(agent.id)}/${server.id}/tools`);
    expect(tools.body.map((tool: { tool_name: string }) => tool.tool_name)).toContain('echo');
    expect(legacy.requests.some((request) => request.path === '/sse')).toBe(true);
  });

  it('answers 502 for a server that is not there and stores it unreachable', async () => {
    const { api, agent } = await agentWith();
    const closed = await startCountingListener();
    await closed.close();
    const server = await registered(api, agent.id, { url: `http://127.0.0.1:${closed.port}/mcp` });
    const connect = await api.post(`${serversUrl(agent.id)}/${server.id}/connect`, undefined);
    expect({ status: connect.status, code: connect.body.code, detail: connect.body.detail }).toEqual({
      status: 502,
      code: 'mcp_server_unavailable',
      detail: 'The MCP server could not be connected: The server could not be reached (outbound_failed: connect).',
    });
    const stored = await api.get(`${serversUrl(agent.id)}/${server.id}`);
    expect(stored.body.status).toBe('unreachable');
  });

  it('keeps is_enabled and ids on a re-sync, and refreshes the catalogue on list_changed', async () => {
    const { api, agent } = await agentWith();
    const server = await connected(api, agent.id);
    const toolsUrl = `${serversUrl(agent.id)}/${server.id}/tools`;
    const echo = (await api.get(toolsUrl)).body.find((tool: { tool_name: string }) => tool.tool_name === 'echo');
    await api.patch(`/api/v1/agents/${agent.id}/tools/${echo.id}`, { is_enabled: false });
    await api.post(`${serversUrl(agent.id)}/${server.id}/connect`, undefined);
    const again = (await api.get(toolsUrl)).body.find((tool: { tool_name: string }) => tool.tool_name === 'echo');
    expect({ id: again.id, enabled: again.is_enabled }).toEqual({ id: echo.id, enabled: false });
    everything.addTool(`added-${server.id.slice(0, 8)}`);
    await expect
      .poll(async () => (await api.get(toolsUrl)).body.map((tool: { tool_name: string }) => tool.tool_name), {
        timeout: 2000,
      })
      .toContain(`added-${server.id.slice(0, 8)}`);
  });

  it('deletes the server with its tools; update and delete close the connection', async () => {
    const { api, agent } = await agentWith();
    const server = await connected(api, agent.id);
    expect((await api.get(`/api/v1/agents/${agent.id}/tools`)).body.length).toBeGreaterThan(3);
    const deleted = await api.delete(`${serversUrl(agent.id)}/${server.id}`);
    expect(deleted.status).toBe(204);
    expect((await api.get(`/api/v1/agents/${agent.id}/tools`)).body).toEqual([]);
    expect((await api.get(`${serversUrl(agent.id)}/${server.id}`)).status).toBe(404);
    expect((await api.delete(`${serversUrl(agent.id)}/${server.id}`)).status).toBe(404);
  });
});

describe('agents calling MCP tools', () => {
  async function run(api: Api, agentId: string, content = 'Go.') {
    const thread = await api.createThread(agentId);
    const reply = await api.post(`/api/v1/chat/${agentId}/threads/${thread.id}/messages`, { role: 'user', content });
    expect(reply.status, reply.raw).toBe(200);
    const messages = await api.get(`/api/v1/chat/${agentId}/threads/${thread.id}/messages?limit=100`);
    return messages.body[1].tool_calls as any[];
  }

  it('calls tools through one pooled connection; results, images and errors are stored', async () => {
    const model = models.script([
      callTools(
        { name: 'get-sum', input: { a: 2, b: 3 }, id: 'sum' },
        { name: 'get-tiny-image', input: {}, id: 'image' },
        { name: 'always-fails', input: { reason: 'on purpose' }, id: 'fails' },
      ),
      say('Done.'),
    ]);
    const { api, agent } = await agentWith({ model: model.id });
    const initializations = everything.initializations();
    await connected(api, agent.id);
    const calls = await run(api, agent.id);
    const byName = Object.fromEntries(calls.map((call) => [call.tool_name, call]));
    expect(byName['get-sum']).toMatchObject({
      arguments: { a: 2, b: 3 },
      result: { content: [{ type: 'text', text: 'The sum of 2 and 3 is 5.' }] },
      error: null,
    });
    expect(byName['get-sum'].start_time).toEqual(expect.any(String));
    expect(byName['get-sum'].end_time).toEqual(expect.any(String));
    const image = byName['get-tiny-image'].result.content.find((item: { type: string }) => item.type === 'image');
    expect(image).toMatchObject({ type: 'image', mimeType: 'image/png', data: expect.any(String) });
    expect(byName['always-fails']).toMatchObject({ result: null, error: 'It failed: on purpose' });
    // One connect for the connect call and every tool call.
    expect(everything.initializations()).toBe(initializations + 1);
    // The model got a placeholder, never the base64 of the image.
    const toolMessages = JSON.stringify(model.requests[1]);
    expect(toolMessages).toContain('[image image/png,');
    expect(toolMessages).not.toContain(image.data);
    // Schemas reach the model as the server gave them.
    const sent = model.requests[0]!.tools!.find((tool) => tool.name === 'get-sum');
    expect(sent?.inputSchema).toMatchObject({ properties: { a: { type: 'number' }, b: { type: 'number' } } });
  });

  it('ends a call that runs past its timeout, and reconnects after the server forgot the session', async () => {
    const model = models.script([
      callTools({ name: 'wait-for-abort', input: {} }),
      say('Timed out.'),
      callTools({ name: 'echo', input: { message: 'after restart' } }),
      say('Done.'),
    ]);
    const { api, agent } = await agentWith({ model: model.id });
    const server = await connected(api, agent.id);
    const tools = (await api.get(`${serversUrl(agent.id)}/${server.id}/tools`)).body;
    const waiting = tools.find((tool: { tool_name: string }) => tool.tool_name === 'wait-for-abort');
    const patched = await api.patch(`/api/v1/agents/${agent.id}/tools/${waiting.id}`, {
      configuration: { ...waiting.configuration, timeout_ms: 300 },
    });
    expect(patched.status, patched.raw).toBe(200);
    const [slow] = await run(api, agent.id);
    expect(slow).toMatchObject({
      tool_name: 'wait-for-abort',
      result: null,
      error: 'Tool wait-for-abort timed out after 300 ms',
    });
    const before = everything.initializations();
    everything.forgetSessions();
    const [echo] = await run(api, agent.id);
    expect(echo).toMatchObject({ result: { content: [{ type: 'text', text: 'Echo: after restart' }] }, error: null });
    expect(everything.initializations()).toBe(before + 1);
  });
});

describe('the connection pool', () => {
  it('makes a new connection after an update, and closes every connection when the app stops', async () => {
    const own = await startEverythingServer();
    const local = await createTestContext({ outboundAllow: '127.0.0.1' });
    const organization = await local.newOrganization();
    const api = client(local, organization.key);
    const agent = await api.createAgent();
    const server = (await api.post(serversUrl(agent.id), { name: 'Own', url: own.url })).body;
    const check = () => api.post(`${serversUrl(agent.id)}/${server.id}/health-check`, undefined);
    expect((await api.post(`${serversUrl(agent.id)}/${server.id}/connect`, undefined)).status).toBe(200);
    expect((await check()).body.status).toBe('healthy');
    expect(own.initializations()).toBe(1);
    await api.put(`${serversUrl(agent.id)}/${server.id}`, { name: 'Renamed' });
    expect((await check()).body.status).toBe('healthy');
    expect(own.initializations()).toBe(2);
    expect(own.openSockets()).toBeGreaterThan(0);
    await local.close();
    await expect.poll(() => own.openSockets(), { timeout: 2000 }).toBe(0);
    await own.close();
  });
});

describe('health checks', () => {
  it('reports a healthy server with its tools and stores the check', async () => {
    const { api, agent } = await agentWith();
    const server = await registered(api, agent.id, {});
    const check = await api.post(`${serversUrl(agent.id)}/${server.id}/health-check`, undefined);
    expect(check.status).toBe(200);
    expect(check.body).toEqual({
      mcp_server_id: server.id,
      status: 'healthy',
      checked_at: expect.any(String),
      response_time_ms: expect.any(Number),
      available_tools: expect.any(Number),
      error_message: null,
    });
    expect(check.body.available_tools).toBeGreaterThan(3);
    const stored = await api.get(`${serversUrl(agent.id)}/${server.id}`);
    expect({ status: stored.body.status, last: stored.body.last_health_check }).toEqual({
      status: 'connected',
      last: check.body.checked_at,
    });
  });

  it('uses health_check_url when set, and reports unreachable without echoing the upstream', async () => {
    const { api, agent } = await agentWith();
    const closed = await startCountingListener();
    await closed.close();
    const server = await registered(api, agent.id, { health_check_url: `http://127.0.0.1:${closed.port}/health` });
    const check = await api.post(`${serversUrl(agent.id)}/${server.id}/health-check`, undefined);
    expect(check.body).toMatchObject({
      status: 'unreachable',
      available_tools: 0,
      error_message: 'The server could not be reached (outbound_failed: connect)',
    });
    expect((await api.get(`${serversUrl(agent.id)}/${server.id}`)).body.status).toBe('unreachable');
  });
});

describe('T18/T19: a connect whose DNS turns private', () => {
  let guarded: TestContext;
  beforeAll(async () => {
    const resolver = createStubResolver({ 'mcp.rebind.test': ['127.0.0.1'] });
    guarded = await createTestContext({ outboundLookup: resolver.lookup });
  });
  afterAll(() => guarded?.close());
  afterEach(() => vi.restoreAllMocks());

  it('opens no socket on connect or health check', async () => {
    const organization = await guarded.newOrganization();
    const api = client(guarded, organization.key);
    const agent = await api.createAgent();
    const created = await api.post(serversUrl(agent.id), { name: 'Rebind', url: 'http://mcp.rebind.test/mcp' });
    expect(created.status).toBe(200);
    const connects = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
      throw new Error('a socket was opened');
    });
    const connect = await api.post(`${serversUrl(agent.id)}/${created.body.id}/connect`, undefined);
    expect({ status: connect.status, detail: connect.body.detail }).toEqual({
      status: 502,
      detail: 'The MCP server could not be connected: The server could not be reached (outbound_blocked: address).',
    });
    const check = await api.post(`${serversUrl(agent.id)}/${created.body.id}/health-check`, undefined);
    expect({ status: check.body.status, error: check.body.error_message }).toEqual({
      status: 'unreachable',
      error: 'The server could not be reached (outbound_blocked: address)',
    });
    expect(connects).not.toHaveBeenCalled();
  });
});
