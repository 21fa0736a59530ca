import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import type { Api, Response } from '../helpers/harness.js';
import {
  bareRequest,
  call,
  createObjects,
  dumpDatabase,
  expectedError,
  idParamsOf,
  loadSpec,
  loopbackPort,
  needsRun,
  notFoundCode,
  operationSpecProblems,
  outcome,
  rawRequest,
  registeredRoutes,
  specOf,
  type Objects,
  type Operation,
  createTwoOrganizations,
} from '../helpers/routes.js';
import { UUID_PATTERN } from '../helpers/ids.js';

/**
 * T5, T6 and T13 (reliability.md): path tricks, the unauthenticated surface, "internal" headers,
 * and the headers every response carries.
 */

let context: TestContext;
let operations: Operation[];
let orgA: TestOrganization;
let orgB: TestOrganization;
let apiA: Api;
let apiB: Api;
let a: Objects;
let b: Objects;
let port: number;

beforeAll(async () => {
  // This file probes the unauthenticated surface hundreds of times from one address; the limit on
  // failed authentications has its own test (auth-failure-limit.test.ts).
  context = await createTestContext({ authFailureLimitPerMinute: 0 });
  ({ operations, orgA, orgB, apiA, apiB, a, b } = await createTwoOrganizations(context));
  port = await loopbackPort(context);
});
afterAll(async () => {
  await context.close();
});

/**
 * The reviewed list of routes reachable without a key, with what they answer. Anything else the
 * router knows must answer 401. Adding a public route means adding it here, in review.
 */
const PUBLIC_ROUTES: Record<string, { url: string; status: number }> = {
  '/healthz': { url: '/healthz', status: 200 },
  '/readyz': { url: '/readyz', status: 200 },
  '/metrics': { url: '/metrics', status: 200 },
  // An MCP server's OAuth redirect URI: authorised by its single-use state (none here: 400).
  '/api/v1/mcp/oauth/callback': { url: '/api/v1/mcp/oauth/callback', status: 400 },
  '/api/v1/mcp/oauth/client-metadata.json': { url: '/api/v1/mcp/oauth/client-metadata.json', status: 200 },
  // A widget page mints its session with the publishable key in the body (none here: 422).
  '/api/v1/widget/sessions': { url: '/api/v1/widget/sessions', status: 422 },
  '/openapi.json': { url: '/openapi.json', status: 200 },
  '/docs': { url: '/docs', status: 200 },
  '/docs/': { url: '/docs/', status: 200 },
  '/docs/json': { url: '/docs/json', status: 200 },
  '/docs/yaml': { url: '/docs/yaml', status: 200 },
  '/docs/static/index.html': { url: '/docs/static/index.html', status: 302 },
  '/docs/static/swagger-initializer.js': { url: '/docs/static/swagger-initializer.js', status: 200 },
  '/docs/*': { url: '/docs/static/swagger-ui.css', status: 200 },
  // Parley Studio's static files (docs/studio.md): no data, only the page that asks for a key.
  '/studio': { url: '/studio', status: 302 },
  '/studio/': { url: '/studio/', status: 200 },
  '/studio/*': { url: '/studio/agents', status: 200 },
};

const MANGLED_PATHS = [
  '/API/V1/agents',
  '/Api/v1/agents',
  '/api/V1/agents',
  '//api/v1/agents',
  '/api//v1/agents',
  '/api/v1/./agents',
  '/api/v1/chat/x/../agents',
  '/api/v1/%2e%2e/agents',
  '/api/v1/%2E%2E/v1/agents',
  '/api/v1/agents/',
  '/api/v1/agents;jsessionid=1',
  '/api/v1/agents%2f',
  '/api/v1/AGENTS',
];

describe('T5: path normalisation', () => {
  it('answers 401 to every mangled path without a key (inject and raw HTTP)', async () => {
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    for (const path of MANGLED_PATHS) {
      const injected = await bareRequest(context, 'GET', path);
      actual.push(outcome(`inject ${path}`, injected));
      expected.push(expectedError(`inject ${path}`, injected, 401, 'invalid_api_key'));
      const raw = (await rawRequest(port, 'GET', path)) as Response;
      actual.push(outcome(`raw ${path}`, raw));
      expected.push(expectedError(`raw ${path}`, raw, 401, 'invalid_api_key'));
    }
    expect(actual).toEqual(expected);
  });

  it('never serves a mangled path with a valid key: the router is case-sensitive and does not resolve dot segments', async () => {
    // Raw HTTP: the path reaches the server exactly as written.
    const raw: Record<string, number> = {};
    for (const path of MANGLED_PATHS) {
      raw[path] = (await rawRequest(port, 'GET', path, { 'x-api-key': orgA.key })).status;
    }
    expect(raw).toEqual({
      '/API/V1/agents': 404,
      '/Api/v1/agents': 404,
      '/api/V1/agents': 404,
      '//api/v1/agents': 404,
      '/api//v1/agents': 404,
      '/api/v1/./agents': 404,
      '/api/v1/chat/x/../agents': 404,
      '/api/v1/%2e%2e/agents': 404,
      '/api/v1/%2E%2E/v1/agents': 404,
      '/api/v1/agents/': 422, // GET /api/v1/agents/{agent_id} with an empty id
      '/api/v1/agents;jsessionid=1': 404,
      '/api/v1/agents%2f': 404,
      '/api/v1/AGENTS': 404,
    });
    // Through inject, whose URL parser resolves dot segments before the server sees them, the
    // case variants still find no route.
    for (const path of [
      '/API/V1/agents',
      '/Api/v1/agents',
      '/api/v1/AGENTS',
      '//api/v1/agents',
      '/api/v1/agents;jsessionid=1',
    ]) {
      const response = await apiA.get(path);
      expect(outcome(path, response)).toEqual(expectedError(path, response, 404, 'route_not_found'));
    }
    // The same on an id route with the owner's key, and another organisation's object.
    const mixed = await apiA.get(`/API/V1/agents/${a.agent_id}`);
    expect(outcome('mixed', mixed)).toEqual(expectedError('mixed', mixed, 404, 'route_not_found'));
    const upperId = await apiB.get(`/api/v1/agents/${a.agent_id.toUpperCase()}`);
    expect(outcome('upper-case id', upperId)).toEqual(expectedError('upper-case id', upperId, 404, 'agent_not_found'));
  });
});

describe('T6: the unauthenticated surface', () => {
  it('declares the key requirement globally in the OpenAPI document, with only health, readiness, metrics, the MCP OAuth callback and client metadata, and widget session minting exempt', async () => {
    const spec = await loadSpec(context);
    expect(spec.security).toEqual([{ APIKeyHeader: [] }]);
    expect(spec.components.securitySchemes).toEqual({
      APIKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      StreamToken: { type: 'apiKey', in: 'query', name: 'token', description: expect.any(String) },
      VisitorToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: expect.any(String) },
    });
    // The stream token is an alternative on the follow route only.
    const overridden = Object.entries<Record<string, any>>(spec.paths).flatMap(([path, item]) =>
      Object.entries<any>(item)
        .filter(([, operation]) => operation.security !== undefined && operation.security.length > 0)
        .map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation.security]),
    );
    // The routes a widget visitor's token opens (docs/widget.md), and the follow route's stream token.
    const visitor = [{ APIKeyHeader: [] }, { VisitorToken: [] }];
    expect(overridden).toEqual([
      ['GET /api/v1/chat/{agent_id}/threads', visitor],
      ['POST /api/v1/chat/{agent_id}/threads', visitor],
      ['GET /api/v1/chat/{agent_id}/threads/{thread_id}', visitor],
      ['GET /api/v1/chat/{agent_id}/threads/{thread_id}/messages', visitor],
      ['POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages', visitor],
      ['POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream', visitor],
      [
        'GET /api/v1/chat/{agent_id}/threads/{thread_id}/stream',
        [{ APIKeyHeader: [] }, { StreamToken: [] }, { VisitorToken: [] }],
      ],
      ['POST /api/v1/widget/identify', visitor],
      ['POST /api/v1/feedback/chat', visitor],
    ]);
    expect(operations.filter((operation) => operation.public).map((operation) => operation.name)).toEqual([
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /api/v1/mcp/oauth/callback',
      'GET /api/v1/mcp/oauth/client-metadata.json',
      'POST /api/v1/widget/sessions',
    ]);
    expect(operationSpecProblems(operations)).toEqual([]);
  });

  it('registers no route outside the OpenAPI document except the reviewed documentation routes', () => {
    const fromSpec = operations.flatMap((operation) => {
      const url = operation.path.replace(/\{([^}]+)\}/g, ':$1');
      return operation.method === 'GET' ? [`GET ${url}`, `HEAD ${url}`] : [`${operation.method} ${url}`];
    });
    const reviewed = Object.keys(PUBLIC_ROUTES)
      .filter((url) => !operations.some((operation) => operation.public && operation.path === url))
      .flatMap((url) => [`GET ${url}`, `HEAD ${url}`]);
    const registered = registeredRoutes(context).map((route) => `${route.method} ${route.url}`);
    expect(registered.length).toBeGreaterThan(30);
    expect([...registered].sort()).toEqual([...fromSpec, ...reviewed].sort());
  });

  it('answers 401 without a key on every registered route except the reviewed public list', async () => {
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    const byName = new Map(operations.map((operation) => [operation.name, operation]));
    for (const route of registeredRoutes(context)) {
      const label = `${route.method} ${route.url}`;
      const isPublic = PUBLIC_ROUTES[route.url];
      let response: Response;
      if (isPublic) {
        response = await bareRequest(context, route.method, isPublic.url);
        actual.push({ route: label, status: response.status });
        expected.push({ route: label, status: isPublic.status });
        continue;
      }
      const specPath = route.url.replace(/:([a-z_]+)/g, '{$1}');
      const operation = byName.get(`${route.method === 'HEAD' ? 'GET' : route.method} ${specPath}`);
      expect(operation, `${label} is in the OpenAPI document`).toBeDefined();
      // HEAD runs the GET handler (streams go over loopback HTTP, so an open one cannot hang).
      response = await call(context, null, { ...operation!, method: route.method }, a);
      if (route.method === 'HEAD') {
        actual.push({ route: label, status: response.status });
        expected.push({ route: label, status: 401 });
      } else {
        actual.push(outcome(label, response));
        expected.push(expectedError(label, response, 401, 'invalid_api_key'));
      }
    }
    expect(actual).toEqual(expected);
    expect(actual.length).toBeGreaterThan(30);
  });

  it('trusts no "internal" or forwarding header: without a key still 401, with org B\'s key still 404', async () => {
    const spoofs: Record<string, string>[] = [
      { 'x-request-from': 'internal' },
      { 'x-forwarded-for': '127.0.0.1' },
      { 'x-real-ip': '127.0.0.1' },
      { 'x-internal-request': 'true' },
      { 'x-org-id': orgA.organizationId },
      { 'x-organization-id': orgA.organizationId },
      { 'x-forwarded-host': 'localhost', 'x-forwarded-proto': 'https', forwarded: 'for=127.0.0.1' },
      { 'x-original-url': '/healthz', 'x-rewrite-url': '/healthz' },
      {
        'x-request-from': 'internal',
        'x-forwarded-for': '127.0.0.1',
        'x-real-ip': '127.0.0.1',
        'x-internal-request': 'true',
        'x-org-id': orgA.organizationId,
      },
    ];
    const databaseBefore = await dumpDatabase(context);
    const idOperations = operations.filter((operation) => specOf(operation).notFound);
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    for (const headers of spoofs) {
      const tag = Object.keys(headers).join('+');
      for (const operation of idOperations) {
        const anonymous = await call(context, null, operation, a, { headers });
        actual.push(outcome(`${tag}, no key: ${operation.name}`, anonymous));
        expected.push(expectedError(`${tag}, no key: ${operation.name}`, anonymous, 401, 'invalid_api_key'));
        const asB = await call(context, orgB.key, operation, a, { headers });
        const code = notFoundCode(operation, new Set(idParamsOf(operation)));
        actual.push(outcome(`${tag}, B's key: ${operation.name}`, asB));
        expected.push(expectedError(`${tag}, B's key: ${operation.name}`, asB, 404, code));
      }
      const list = await apiB.get('/api/v1/agents', headers);
      actual.push({
        route: `${tag}, B lists agents`,
        status: list.status,
        ids: list.body.map((row: { id: string }) => row.id),
      });
      expected.push({ route: `${tag}, B lists agents`, status: 200, ids: [b.agent_id] });
    }
    expect(actual).toEqual(expected);
    expect(await dumpDatabase(context)).toEqual(databaseBefore);
  });
});

describe('T13: response headers', () => {
  const EVIL_ORIGIN = 'https://evil.example';

  function headerProblems(label: string, response: Response): string[] {
    const problems: string[] = [];
    if (response.headers['cache-control'] !== 'no-store')
      problems.push(`${label}: cache-control ${response.headers['cache-control']}`);
    if (response.headers['x-content-type-options'] !== 'nosniff') {
      problems.push(`${label}: x-content-type-options ${response.headers['x-content-type-options']}`);
    }
    if (!UUID_PATTERN.test(String(response.headers['x-request-id']))) problems.push(`${label}: x-request-id`);
    for (const name of Object.keys(response.headers)) {
      if (name.startsWith('access-control-')) problems.push(`${label}: CORS header ${name}`);
    }
    if (response.status >= 400 && response.raw !== '') {
      if (response.body?.request_id !== response.headers['x-request-id']) problems.push(`${label}: request_id differs`);
      if (typeof response.body?.code !== 'string') problems.push(`${label}: no code`);
    }
    return problems;
  }

  it('sends no-store, nosniff and no CORS headers on every response (2xx and 4xx), even to a foreign Origin', async () => {
    const origin = { origin: EVIL_ORIGIN };
    const responses: [string, Response][] = [];
    // Every operation, as its owner.
    for (const operation of operations) {
      const fresh = await createObjects(context, apiA, orgA.organizationId, 'headers', { run: needsRun(operation) });
      const response = await call(context, orgA.key, operation, fresh, { headers: origin });
      expect(response.status, operation.name).toBe(specOf(operation).owner);
      responses.push([operation.name, response]);
    }
    const read = client(context, await orgA.keyWith(['read']));
    const errors: [string, Promise<Response>, number][] = [
      ['401 no key', bareRequest(context, 'GET', '/api/v1/agents', { headers: origin }), 401],
      ['403 read key writes', read.post('/api/v1/agents', { name: 'x' }, origin), 403],
      ['404 other org', apiB.get(`/api/v1/agents/${a.agent_id}`, origin), 404],
      ['404 unknown path', apiA.get('/api/v1/nothing-here', origin), 404],
      ['405 method', apiA.request('PATCH', '/api/v1/agents', { name: 'x' }, origin), 405],
      [
        '405 preflight',
        apiA.request('OPTIONS', '/api/v1/agents', undefined, { ...origin, 'access-control-request-method': 'POST' }),
        405,
      ],
      [
        '401 preflight without key',
        bareRequest(context, 'OPTIONS', '/api/v1/agents', {
          headers: { ...origin, 'access-control-request-method': 'POST' },
        }),
        401,
      ],
      ['413 body too large', apiA.post('/api/v1/agents', { name: 'x'.repeat(1024 * 1024 + 1) }, origin), 413],
      [
        '415 content type',
        apiA.request('POST', '/api/v1/agents', 'name=x', {
          ...origin,
          'content-type': 'application/x-www-form-urlencoded',
        }),
        415,
      ],
      ['422 bad body', apiA.post('/api/v1/agents', { name: '' }, origin), 422],
      ['422 bad id', apiA.get('/api/v1/agents/not-a-uuid', origin), 422],
      ['HEAD', apiA.request('HEAD', '/api/v1/agents', undefined, origin), 200],
      ['docs', bareRequest(context, 'GET', '/docs', { headers: origin }), 200],
      ['openapi', bareRequest(context, 'GET', '/openapi.json', { headers: origin }), 200],
      ['healthz', bareRequest(context, 'GET', '/healthz', { headers: origin }), 200],
    ];
    for (const [label, pending, status] of errors) {
      const response = await pending;
      expect(response.status, label).toBe(status);
      responses.push([label, response]);
    }
    expect(responses.flatMap(([label, response]) => headerProblems(label, response))).toEqual([]);
  });

  it('answers an unknown path with a valid key as 404 route_not_found', async () => {
    for (const path of [
      '/api/v1/nothing-here',
      '/api/v2/agents',
      '/nothing',
      `/api/v1/agents/${crypto.randomUUID()}/files`,
    ]) {
      const response = await apiA.get(path);
      expect(outcome(path, response)).toEqual(expectedError(path, response, 404, 'route_not_found'));
    }
  });

  it('ignores a client-supplied x-request-id', async () => {
    const response = await apiA.get('/api/v1/nothing-here', { 'x-request-id': 'chosen-by-client' });
    expect(response.headers['x-request-id']).not.toBe('chosen-by-client');
    expect(response.body.request_id).toBe(response.headers['x-request-id']);
    expect(response.headers['x-request-id']).toMatch(UUID_PATTERN);
  });
});
