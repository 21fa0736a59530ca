import { expect } from 'vitest';
import { createHmac } from 'node:crypto';
import { injectRequest, type Api, type Response, type TestContext } from './harness.js';

/** A widget key as its creation answers it, secrets included. */
export interface CreatedWidgetKey {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  prefix: string;
  allowed_origins: string[];
  created_at: string;
  revoked_at: string | null;
  publishable_key: string;
  identity_secret: string;
}

export async function createWidgetKey(admin: Api, agentId: string, origins: string[]): Promise<CreatedWidgetKey> {
  const response = await admin.post('/api/v1/widget-keys', {
    agent_id: agentId,
    name: 'Shop widget',
    allowed_origins: origins,
  });
  expect(response.status, response.raw).toBe(200);
  return response.body as CreatedWidgetKey;
}

export interface Session {
  token: string;
  anon_user_id: string;
  agent_id: string;
  expires_at: string;
}

/** POST /api/v1/widget/sessions from a page on `origin` (none when undefined). */
export function postSession(
  context: TestContext,
  input: { widgetKey: string; origin: string | undefined; token?: string },
): Promise<Response> {
  return injectRequest(context, {
    method: 'POST',
    url: '/api/v1/widget/sessions',
    headers: input.origin === undefined ? {} : { origin: input.origin },
    body: { widget_key: input.widgetKey, ...(input.token === undefined ? {} : { token: input.token }) },
  });
}

export async function startSession(
  context: TestContext,
  input: { widgetKey: string; origin: string; token?: string },
): Promise<Session> {
  const response = await postSession(context, input);
  expect(response.status, response.raw).toBe(200);
  return response.body as Session;
}

/** Requests as a widget visitor: `Authorization: Bearer <token>` and the page's `Origin`. */
export function visitorClient(context: TestContext, token: string, origin: string | undefined) {
  const request = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    injectRequest(context, {
      method,
      url,
      body,
      headers: { authorization: `Bearer ${token}`, ...(origin === undefined ? {} : { origin }), ...headers },
    });
  return {
    token,
    request,
    get: (url: string, headers?: Record<string, string>) => request('GET', url, undefined, headers),
    post: (url: string, body: unknown, headers?: Record<string, string>) => request('POST', url, body, headers),
    delete: (url: string) => request('DELETE', url),
  };
}

export type VisitorClient = ReturnType<typeof visitorClient>;

/** What the host site's server computes: hex HMAC-SHA256 of the user id with the identity secret. */
export function userHash(identitySecret: string, userId: string): string {
  return createHmac('sha256', identitySecret).update(userId).digest('hex');
}
