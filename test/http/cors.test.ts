import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { client, createTestContext, createThreadRef, injectRequest, type TestContext } from '../helpers/harness.js';
import { threadPath } from '../helpers/sse-client.js';

/**
 * Browsers (issue 8, item 4): CORS is off by default; `CORS_ORIGINS` allows origins, whose
 * preflights are answered before authentication and whose requests — errors and event streams
 * included — carry `Access-Control-Allow-Origin`.
 */

const APP = 'https://app.example';
const preflight = (origin: string) => ({
  method: 'OPTIONS',
  url: '/api/v1/agents',
  headers: {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'x-api-key, content-type',
  },
});

describe('CORS off (the default)', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestContext();
  });
  afterAll(() => context.close());

  it('sends no CORS header, to a preflight or a request, from any origin', async () => {
    const answer = await injectRequest(context, preflight(APP));
    expect(answer.status).toBe(401);
    const organization = await context.newOrganization();
    const listed = await client(context, organization.key).get('/api/v1/agents', { origin: APP });
    expect(listed.status).toBe(200);
    for (const response of [answer, listed]) {
      expect(Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('CORS_ORIGINS=https://app.example,http://localhost:5173', () => {
  let context: TestContext;
  let base: string;
  beforeAll(async () => {
    context = await createTestContext({ corsOrigins: [APP, 'http://localhost:5173'] });
    base = await context.listen();
  });
  afterAll(() => context.close());

  it('answers an allowed preflight 204 with the allow headers, without a key', async () => {
    const answer = await injectRequest(context, preflight(APP));
    expect({ status: answer.status, body: answer.raw }).toEqual({ status: 204, body: '' });
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
      'access-control-allow-headers': 'x-api-key, content-type, idempotency-key, last-event-id, accept',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    });
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('answers a preflight from another origin 204 without allow headers, so the browser refuses', async () => {
    const answer = await injectRequest(context, preflight('https://evil.example'));
    expect(answer.status).toBe(204);
    expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('marks responses to an allowed origin, errors included, and only those', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const allowed = await api.get('/api/v1/agents', { origin: APP });
    expect(allowed.status).toBe(200);
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-expose-headers':
        'x-request-id, retry-after, allow, ratelimit-limit, ratelimit-remaining, ratelimit-reset',
      vary: 'Origin',
    });
    const refused = await injectRequest(context, { method: 'GET', url: '/api/v1/agents', headers: { origin: APP } });
    expect({ status: refused.status, origin: refused.headers['access-control-allow-origin'] }).toEqual({
      status: 401,
      origin: APP,
    });
    const foreign = await api.get('/api/v1/agents', { origin: 'https://evil.example' });
    expect(foreign.status).toBe(200);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(foreign.headers.vary).toBe('Origin');
  });

  it('marks an event stream for an allowed origin', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo', tools: [] } });
    const controller = new AbortController();
    const response = await fetch(`${base}${threadPath(thread)}/stream`, {
      headers: { 'x-api-key': thread.key, origin: 'http://localhost:5173' },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-expose-headers')).toBe(
      'x-request-id, retry-after, allow, ratelimit-limit, ratelimit-remaining, ratelimit-reset',
    );
    controller.abort();
  });
});

describe('CORS_ORIGINS=*', () => {
  it('allows any origin with *', async () => {
    const context = await createTestContext({ corsOrigins: '*' });
    try {
      const answer = await injectRequest(context, preflight('https://anywhere.example'));
      expect({ status: answer.status, origin: answer.headers['access-control-allow-origin'] }).toEqual({
        status: 204,
        origin: '*',
      });
    } finally {
      await context.close();
    }
  });
});

describe('reading CORS_ORIGINS', () => {
  it('takes exact origins or *, and refuses anything else naming the variable', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
    for (const bad of [
      'https://a.example/',
      'a.example',
      'ftp://a.example',
      'https://a.example/app',
      'https://a.example,*',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow('Invalid configuration: CORS_ORIGINS must be');
    }
  });
});
