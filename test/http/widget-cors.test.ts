import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, injectRequest, type Api, type TestContext } from '../helpers/harness.js';
import { createWidgetKey, postSession, startSession, visitorClient } from '../helpers/widget.js';

/**
 * CORS for the widget (issue 12, part B): the routes a visitor token may use, and the widget's own
 * routes, answer the origins an active widget key of the agent allows; routes only API keys reach
 * never answer them. CORS_ORIGINS is unset here (the default), so nothing else answers at all.
 */

const SHOP = 'https://shop.example';
const EVIL = 'https://evil.example';
let context: TestContext;
let admin: Api;
let agentId: string;
let otherAgentId: string;
let threadId: string;
let publishable: string;

function preflight(url: string, origin: string, method = 'POST') {
  return injectRequest(context, {
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type',
    },
  });
}

const corsHeaders = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('access-control-')));

beforeAll(async () => {
  context = await createTestContext();
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant' })).id;
  otherAgentId = (await admin.createAgent({ name: 'Internal' })).id;
  threadId = (await admin.createThread(agentId)).id;
  publishable = (await createWidgetKey(admin, agentId, [SHOP])).publishable_key;
});
afterAll(() => context.close());

describe('widget CORS', () => {
  it('answers a preflight on a visitor route from an allowed origin, allowing the Authorization header', async () => {
    for (const [url, method] of [
      [`/api/v1/chat/${agentId}/threads`, 'POST'],
      [`/api/v1/chat/${agentId}/threads`, 'GET'],
      [`/api/v1/chat/${agentId}/threads/${threadId}/messages/stream`, 'POST'],
      [`/api/v1/chat/${agentId}/threads/${threadId}/stream`, 'GET'],
      ['/api/v1/widget/sessions', 'POST'],
      ['/api/v1/widget/identify', 'POST'],
    ] as const) {
      const answer = await preflight(url, SHOP, method);
      expect({ url, status: answer.status, headers: corsHeaders(answer.headers) }).toEqual({
        url,
        status: 204,
        headers: {
          'access-control-allow-origin': SHOP,
          'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
          'access-control-allow-headers':
            'x-api-key, content-type, idempotency-key, last-event-id, accept, authorization',
          'access-control-max-age': '600',
        },
      });
      expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('answers a refused origin, or another agent’s visitor route, without the allow headers', async () => {
    for (const [url, origin] of [
      [`/api/v1/chat/${agentId}/threads`, EVIL],
      [`/api/v1/chat/${otherAgentId}/threads`, SHOP],
      ['/api/v1/widget/sessions', EVIL],
    ] as const) {
      const answer = await preflight(url, origin);
      expect({ url, status: answer.status, headers: corsHeaders(answer.headers) }).toEqual({
        url,
        status: 204,
        headers: {},
      });
    }
  });

  it('never answers a widget origin on routes only API keys reach', async () => {
    for (const [url, method] of [
      ['/api/v1/agents', 'GET'],
      [`/api/v1/agents/${agentId}`, 'PUT'],
      ['/api/v1/widget-keys', 'POST'],
      ['/api/v1/api-keys', 'GET'],
      [`/api/v1/chat/${agentId}/threads/${threadId}`, 'DELETE'],
      [`/api/v1/chat/${agentId}/ui-messages`, 'POST'],
      ['/api/v1/flows/executions', 'GET'],
    ] as const) {
      const answer = await preflight(url, SHOP, method);
      expect({ url, status: answer.status, headers: corsHeaders(answer.headers) }).toEqual({
        url,
        status: 401,
        headers: {},
      });
    }
    const listed = await admin.get('/api/v1/agents', { origin: SHOP });
    expect({ status: listed.status, headers: corsHeaders(listed.headers) }).toEqual({ status: 200, headers: {} });
  });

  it('marks a visitor’s requests and their errors for the allowed origin, and only for it', async () => {
    const session = await startSession(context, { widgetKey: publishable, origin: SHOP });
    const visitor = visitorClient(context, session.token, SHOP);
    const listed = await visitor.get(`/api/v1/chat/${agentId}/threads`);
    expect({ status: listed.status, headers: corsHeaders(listed.headers), vary: listed.headers.vary }).toEqual({
      status: 200,
      headers: {
        'access-control-allow-origin': SHOP,
        'access-control-expose-headers':
          'x-request-id, retry-after, allow, ratelimit-limit, ratelimit-remaining, ratelimit-reset',
      },
      vary: 'Origin',
    });
    // An expired or bad token's 401 is readable by the page, so it knows to renew.
    const bad = await visitorClient(context, `${session.token}x`, SHOP).get(`/api/v1/chat/${agentId}/threads`);
    expect({ status: bad.status, origin: bad.headers['access-control-allow-origin'] }).toEqual({
      status: 401,
      origin: SHOP,
    });
    const minted = await postSession(context, { widgetKey: publishable, origin: SHOP });
    expect(minted.headers['access-control-allow-origin']).toBe(SHOP);
    const refused = await postSession(context, { widgetKey: publishable, origin: EVIL });
    expect({ status: refused.status, headers: corsHeaders(refused.headers) }).toEqual({ status: 403, headers: {} });
    const foreign = await visitorClient(context, session.token, EVIL).get(`/api/v1/chat/${agentId}/threads`);
    expect({ status: foreign.status, headers: corsHeaders(foreign.headers) }).toEqual({ status: 401, headers: {} });
  });

  it('stops answering an origin once its widget key is revoked', async () => {
    const key = await createWidgetKey(admin, otherAgentId, ['https://kiosk.example']);
    const url = `/api/v1/chat/${otherAgentId}/threads`;
    expect((await preflight(url, 'https://kiosk.example')).headers['access-control-allow-origin']).toBe(
      'https://kiosk.example',
    );
    await admin.delete(`/api/v1/widget-keys/${key.id}`);
    expect(corsHeaders((await preflight(url, 'https://kiosk.example')).headers)).toEqual({});
  });
});
