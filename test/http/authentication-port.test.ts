import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { registerAuthentication, type Authenticator, type Principal } from '../../src/http/auth.js';
import { registerErrorHandling } from '../../src/http/error-handler.js';

/** The authentication hook against authenticators written here, not API keys. */
function appWith(authenticators: Authenticator[]) {
  const app = Fastify({ logger: false });
  registerErrorHandling(app);
  registerAuthentication(app, authenticators);
  return app;
}

const widgetUser: Principal = {
  kind: 'anonymous',
  organizationId: 'org',
  anonymousUserId: 'browser',
  scopes: ['read'],
  agentId: 'agent',
};

/** Admits `x-widget-token: good` synchronously and `x-widget-token: slow` after a promise. */
const widgetTokens: Authenticator = {
  authenticate(request) {
    const token = request.headers['x-widget-token'];
    if (token === undefined) return null;
    if (token === 'good') return widgetUser;
    if (token === 'slow') return Promise.resolve(widgetUser);
    throw new AppError('invalid_api_key');
  },
};
const never: Authenticator = { authenticate: () => null };

describe('the authentication port', () => {
  it('refuses to start when a route declares neither a scope nor public access', async () => {
    const app = appWith([]);
    app.get('/undeclared', async () => ({}));
    await expect(app.ready()).rejects.toThrow('GET /undeclared declares neither a scope nor public access');
  });

  it('admits a principal from a second kind of credential without a change to the hook', async () => {
    const app = appWith([never, widgetTokens]);
    app.get('/who', { config: { scope: 'read', anonymous: true } }, async (request) => request.principal);
    app.post('/change', { config: { scope: 'write', anonymous: true } }, async () => ({}));
    app.get('/open', { config: { public: true } }, async () => ({ open: true }));
    const status = async (url: string, headers: Record<string, string> = {}, method: 'GET' | 'POST' = 'GET') =>
      (await app.inject({ method, url, headers })).statusCode;
    expect((await app.inject({ url: '/who', headers: { 'x-widget-token': 'good' } })).json()).toEqual(widgetUser);
    expect(await status('/who', { 'x-widget-token': 'slow' })).toBe(200);
    expect(await status('/who', { 'x-widget-token': 'forged' })).toBe(401);
    expect(await status('/who')).toBe(401);
    expect(await status('/change', { 'x-widget-token': 'good' }, 'POST')).toBe(403);
    expect(await status('/open')).toBe(200);
    await app.close();
  });

  it('admits an anonymous end user only on routes that consent, and only for its own agent', async () => {
    const app = appWith([widgetTokens]);
    app.get('/agents/:agent_id/visible', { config: { scope: 'read', anonymous: true } }, async () => ({ ok: true }));
    app.get('/agents/:agent_id/admin', { config: { scope: 'read' } }, async () => ({ ok: true }));
    const answer = async (url: string) => {
      const response = await app.inject({ url, headers: { 'x-widget-token': 'good' } });
      return [response.statusCode, response.json().code ?? response.json().ok] as const;
    };
    expect(await answer('/agents/agent/visible')).toEqual([200, true]);
    expect(await answer('/agents/other/visible')).toEqual([404, 'agent_not_found']);
    expect(await answer('/agents/agent/admin')).toEqual([403, 'insufficient_scope']);
    await app.close();
  });
});
