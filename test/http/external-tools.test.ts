import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredToolResolver } from '../../src/features/tools/stored-tool-resolver.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { ServerSecret } from '../../src/security/server-secret.js';
import { BUILTIN_TOOLS, builtInTool } from '../../src/tools/builtin/index.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { startHttpFixture, type ReceivedRequest } from '../helpers/http-fixture.js';
import { SseConnection, httpJson, storedMessages, threadPath, type ThreadRef } from '../helpers/sse-client.js';
import { SSRF_DNS_RECORDS, createStubResolver, ssrfVectors, startCountingListener } from '../helpers/ssrf-vectors.js';

/**
 * External tools and `http_request` calling out through the guarded client, against a loopback
 * upstream (allowed by OUTBOUND_ALLOW): each auth kind, answers the model gets, failures as error
 * results, secrets nowhere a user, a log or a model could see them, and the T18 table refused
 * before a socket opens.
 */

const SECRETS = {
  bearer: 'bearer-secret-0123456789',
  apiKey: 'api-key-secret-0123456789',
  password: 'basic-password-0123456789',
  clientSecret: 'client-secret-0123456789',
  header: 'header-secret-0123456789',
};

let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
let tokenRequests = 0;
function answer(request: ReceivedRequest, response: http.ServerResponse): void {
  const url = new URL(request.url, 'http://upstream');
  const json = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (url.pathname === '/token') {
    tokenRequests += 1;
    const expected = `Basic ${Buffer.from(`shop-client:${SECRETS.clientSecret}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return json(401, { error: 'invalid_client' });
    return json(200, { access_token: `token-${tokenRequests}`, token_type: 'bearer', expires_in: 3600 });
  }
  if (url.pathname.startsWith('/orders/')) return json(200, { id: url.pathname.slice(8), status: 'shipped' });
  // Says which credential arrived, never its value: what an upstream answers reaches the model.
  if (url.pathname === '/echo')
    return json(200, {
      method: request.method,
      credential: credentialOf(request, url),
      tenant_header: request.headers['x-tenant'] === SECRETS.header,
      body: request.body === '' ? null : (JSON.parse(request.body) as unknown),
    });
  if (url.pathname === '/down') {
    response.writeHead(503, { 'content-type': 'text/plain' });
    return void response.end('upstream is down for maintenance');
  }
  if (url.pathname === '/huge') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    return void response.end('x'.repeat(2 * 1024 * 1024));
  }
  if (url.pathname === '/not-json') {
    response.writeHead(200, { 'content-type': 'application/json' });
    return void response.end('{"unterminated":');
  }
  if (url.pathname === '/slow') return; // never answers
  response.writeHead(404).end();
}

function credentialOf(request: ReceivedRequest, url: URL): string | null {
  const { authorization } = request.headers;
  if (authorization === `Bearer ${SECRETS.bearer}`) return 'bearer';
  if (authorization === `Basic ${Buffer.from(`shop:${SECRETS.password}`).toString('base64')}`) return 'basic';
  if (authorization === 'Bearer token-1') return 'oauth2 token-1';
  if (request.headers['x-api-key'] === SECRETS.apiKey) return 'api_key header';
  if (url.searchParams.get('key') === SECRETS.apiKey) return 'api_key query';
  return null;
}

const models = growingRegistry('external-tools');
let context: TestContext;
let base: string;
beforeAll(async () => {
  upstream = await startHttpFixture(answer);
  context = await createTestContext({ models: models.registry, outboundAllow: '127.0.0.1' });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
  await upstream?.close();
});

/** A thread whose agent has one external tool, and a model that calls it with `input`, then answers. */
async function threadCalling(configuration: Record<string, unknown>, input: Record<string, unknown>) {
  const model = models.script([callTools({ name: 'shop', input }), say('Done.')]);
  const thread = await createThreadRef(context, { base, configuration: { model: model.id } });
  const created = await httpJson(base, thread.key, 'POST', `/api/v1/agents/${thread.agentId}/tools`, {
    tool_name: 'shop',
    tool_type: 'external_tool',
    configuration: { description: 'The shop API.', ...configuration },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return { thread, model, tool: created.body };
}

/** Runs one turn; the stored reply's single tool call. */
async function runTurn(thread: ThreadRef): Promise<{ result: unknown; error: string | null }> {
  const reply = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
    role: 'user',
    content: 'Use the shop.',
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const [, assistant] = await storedMessages(thread);
  expect(assistant.tool_calls).toHaveLength(1);
  return { result: assistant.tool_calls[0].result, error: assistant.tool_calls[0].error };
}

const idSchema = {
  type: 'object',
  properties: { order_id: { type: 'string', maxLength: 20 } },
  required: ['order_id'],
  additionalProperties: false,
};

describe('external tools', () => {
  it('fill the URL from the input and give the model the status and the JSON body', async () => {
    const { thread, model } = await threadCalling(
      { method: 'GET', url: `${upstream.origin}/orders/{order_id}`, input_schema: idSchema },
      { order_id: 'A 42' },
    );
    expect(await runTurn(thread)).toEqual({
      result: { status: 200, body: { id: 'A%2042', status: 'shipped' } },
      error: null,
    });
    // The model's second request carries the result as its tool message.
    expect(JSON.stringify(model.requests[1])).toContain('shipped');
  });

  it('send each kind of credential, and never show, log, stream or prompt one', async () => {
    const echo = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      method: 'POST',
      url: `${upstream.origin}/echo`,
      input_schema: {
        type: 'object',
        properties: { note: { type: 'string', maxLength: 50 } },
        additionalProperties: false,
      },
      auth,
      ...extra,
    });
    const cases: [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
      [echo({ type: 'bearer', token: SECRETS.bearer }), {}, { credential: 'bearer' }],
      [
        echo({ type: 'api_key', in: 'header', name: 'x-api-key', value: SECRETS.apiKey }),
        {},
        { credential: 'api_key header' },
      ],
      [echo({ type: 'api_key', in: 'query', name: 'key', value: SECRETS.apiKey }), {}, { credential: 'api_key query' }],
      [echo({ type: 'basic', username: 'shop', password: SECRETS.password }), {}, { credential: 'basic' }],
      [
        echo(
          {
            type: 'oauth2_client_credentials',
            token_url: `${upstream.origin}/token`,
            client_id: 'shop-client',
            client_secret: SECRETS.clientSecret,
            scopes: ['orders:read'],
          },
          { headers: { 'X-Tenant': SECRETS.header } },
        ),
        {},
        { credential: 'oauth2 token-1', tenant_header: true },
      ],
    ];
    const seen: string[] = [];
    for (const [configuration, , expected] of cases) {
      const { thread, model, tool } = await threadCalling(configuration, { note: 'hello' });
      const { result, error } = await runTurn(thread);
      expect(error).toBeNull();
      expect((result as { body: Record<string, unknown> }).body).toMatchObject({
        method: 'POST',
        body: { note: 'hello' },
        ...expected,
      });
      // Shown masked, and absent from what the model was sent.
      seen.push(JSON.stringify(tool), JSON.stringify(model.requests));
      const stream = await SseConnection.open(`${base}${threadPath(thread)}/stream?after=0`, { key: thread.key });
      seen.push(JSON.stringify(await stream.readUntil((event) => event.event === 'run-end')));
      stream.abort();
      const listed = await httpJson(base, thread.key, 'GET', `/api/v1/agents/${thread.agentId}/tools`);
      seen.push(JSON.stringify(listed.body));
    }
    expect(tokenRequests).toBe(1);
    const everything = [...seen, ...context.logs].join('\n');
    for (const secret of Object.values(SECRETS)) expect(everything).not.toContain(secret);
  });

  it('make failures error results, never failed runs: 5xx, invalid JSON, oversize, timeout, a private address', async () => {
    const listener = await startCountingListener('10.255.255.1').catch(() => null);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: `${upstream.origin}/down` }, /^HTTP 503: upstream is down for maintenance$/],
      [{ url: `${upstream.origin}/not-json` }, /^the response says application\/json but is not valid JSON$/],
      [{ url: `${upstream.origin}/huge` }, /^outbound_failed: response_too_large$/],
      [{ url: `${upstream.origin}/slow`, timeout_ms: 300 }, /outbound_failed: timeout|timed out/],
      [{ url: 'http://10.0.0.1/orders' }, /^outbound_blocked: address$/],
    ];
    for (const [configuration, message] of cases) {
      const { thread } = await threadCalling({ method: 'GET', input_schema: { type: 'object' }, ...configuration }, {});
      const { result, error } = await runTurn(thread);
      expect(result, JSON.stringify(configuration)).toBeNull();
      expect(error, JSON.stringify(configuration)).toMatch(message);
      const [, assistant] = await storedMessages(thread);
      expect(assistant.metadata.status).toBe('completed');
    }
    await listener?.close();
  });
});

describe('external tools and the SSRF table (T18)', () => {
  it('refuse every vector as a tool URL: at creation (422) or at the call, never with a socket', async () => {
    const listener = await startCountingListener();
    const guarded = await createTestContext({ outboundLookup: createStubResolver(SSRF_DNS_RECORDS).lookup });
    try {
      const guardedBase = await guarded.listen();
      const thread = await createThreadRef(guarded, { base: guardedBase, configuration: { model: 'demo' } });
      const toolContext = { signal: new AbortController().signal, now: () => new Date() };
      let refusedAtCreation = 0;
      for (const [index, vector] of ssrfVectors(listener.port).entries()) {
        const created = await httpJson(guardedBase, thread.key, 'POST', `/api/v1/agents/${thread.agentId}/tools`, {
          tool_name: `vector_${index}`,
          tool_type: 'external_tool',
          configuration: {
            description: vector.label,
            method: 'GET',
            url: vector.url,
            input_schema: { type: 'object' },
          },
        });
        if (created.status === 422) {
          refusedAtCreation += 1;
          continue;
        }
        expect(created.status, vector.label).toBe(200);
      }
      const agent = await guarded.store.agents.get({ organizationId: thread.organizationId, id: thread.agentId });
      const box = new SecretBox(
        ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: guarded.secretKeyFile }),
      );
      const resolver = new StoredToolResolver({
        store: guarded.store,
        box,
        catalog: BUILTIN_TOOLS,
        outbound: guarded.parley.outbound,
      });
      const tools = await resolver.resolve({ organizationId: thread.organizationId, agent: agent! });
      for (const tool of tools.filter((candidate) => candidate.name.startsWith('vector_'))) {
        await expect(tool.execute({}, toolContext), tool.description).rejects.toThrow(/^outbound_blocked: /);
      }
      expect(tools.length + refusedAtCreation).toBeGreaterThanOrEqual(ssrfVectors(listener.port).length);
      expect(listener.connections()).toBe(0);
    } finally {
      await guarded.close();
      await listener.close();
    }
  });
});

describe('http_request and the SSRF table (T18)', () => {
  it('refuses every vector before a socket opens, through the built-in tool', async () => {
    const listener = await startCountingListener();
    const resolver = createStubResolver({
      ...SSRF_DNS_RECORDS,
    });
    const guarded = await createTestContext({ outboundLookup: resolver.lookup });
    try {
      const tool = builtInTool('http_request', {}, { outbound: guarded.parley.outbound })!;
      const toolContext = { signal: new AbortController().signal, now: () => new Date() };
      for (const vector of ssrfVectors(listener.port)) {
        await expect(tool.execute({ method: 'GET', url: vector.url }, toolContext), vector.label).rejects.toThrow(
          `outbound_blocked: ${vector.reason}`,
        );
      }
      expect(listener.connections()).toBe(0);
    } finally {
      await guarded.close();
      await listener.close();
    }
  });

  it('answers an allowed destination with its status, type and body', async () => {
    const tool = builtInTool('http_request', {}, { outbound: context.parley.outbound })!;
    const toolContext = { signal: new AbortController().signal, now: () => new Date() };
    expect(await tool.execute({ method: 'GET', url: `${upstream.origin}/orders/7` }, toolContext)).toEqual({
      status: 200,
      content_type: 'application/json',
      body: '{"id":"7","status":"shipped"}',
    });
  });
});
