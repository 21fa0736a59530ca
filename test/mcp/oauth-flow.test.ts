import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpAuthorizationRequired, type McpServerRef } from '../../src/mcp/mcp-authorization.js';
import type { OAuthAuthorization } from '../../src/mcp/oauth/oauth-authorization.js';
import type { OutboundClient } from '../../src/outbound/outbound-client.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { ServerSecret } from '../../src/security/server-secret.js';
import { PRE_REGISTERED, startOAuthMcpServer, type OAuthMcpServer } from '../fixtures/oauth-mcp-server.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import {
  followToCallback,
  insertMcpServer,
  listToolNames,
  loopbackOutbound,
  oauthInstance,
  runSql,
} from '../helpers/mcp-oauth.js';

const REDIRECT_URI = 'http://127.0.0.1:8080/api/v1/mcp/oauth/callback';

let context: TestContext;
let fixture: OAuthMcpServer;
let outbound: OutboundClient;
let oauth: OAuthAuthorization;

beforeAll(async () => {
  fixture = await startOAuthMcpServer({ redirectUris: [REDIRECT_URI] });
  context = await createTestContext({ outboundAllow: '127.0.0.1' });
  outbound = loopbackOutbound();
  oauth = oauthInstance({ store: context.store, secretKeyFile: context.secretKeyFile, outbound });
});

afterAll(async () => {
  await outbound?.close();
  await context?.close();
  await fixture?.close();
});

async function newServer(authConfig: Record<string, unknown> | null = null): Promise<McpServerRef> {
  const organization = await context.newOrganization();
  const agent = await client(context, organization.key).createAgent({ name: 'MCP OAuth agent' });
  const serverId = await insertMcpServer(context.database.target, {
    organizationId: organization.organizationId,
    agentId: agent.id,
    url: fixture.mcpUrl,
  });
  return { organizationId: organization.organizationId, serverId, url: fixture.mcpUrl, authConfig };
}

async function challenge(): Promise<string | null> {
  const response = await fetch(fixture.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  expect(response.status).toBe(401);
  return response.headers.get('www-authenticate');
}

/** Every callback response body, for the final secrets scan. */
const callbackBodies: string[] = [];

async function callback(url: URL, accept = 'application/json') {
  const response = await context.parley.app.inject({
    method: 'GET',
    url: `${url.pathname}${url.search}`,
    headers: { accept },
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: response.body,
    json: () => JSON.parse(response.body),
  };
}

describe('MCP OAuth: sign-in through the callback', () => {
  it('registers dynamically, sends PKCE S256 and the resource, stores the tokens sealed, and lists tools', async () => {
    const ref = await newServer();
    const { authorizationUrl } = await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    const sent = new URL(authorizationUrl);
    expect(sent.origin).toBe(fixture.issuer);
    expect(sent.searchParams.get('code_challenge_method')).toBe('S256');
    expect(sent.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(sent.searchParams.get('resource')).toBe(fixture.mcpUrl);
    expect(sent.searchParams.get('scope')).toBe('mcp:tools offline_access');
    expect(sent.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(sent.searchParams.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(fixture.counts.registrations).toBe(1);

    const back = await followToCallback(authorizationUrl, REDIRECT_URI);
    expect(back.searchParams.get('iss')).toBe(fixture.issuer);
    const response = await callback(back);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'authorized', mcp_server_id: ref.serverId });

    const token = fixture.tokenRequests.at(-1)!;
    expect(token.params.get('grant_type')).toBe('authorization_code');
    expect(token.params.get('resource')).toBe(fixture.mcpUrl);
    expect(token.params.get('code_verifier')).toMatch(/^[\w.~-]{43,128}$/);

    const [row] = await runSql(context.database.target, 'select * from mcp_oauth_credentials where mcp_server_id = ?', [
      ref.serverId,
    ]);
    const box = new SecretBox(ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: context.secretKeyFile }));
    const tokens = JSON.parse(box.open(row.tokens));
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const raw = JSON.stringify(row);
    expect(raw).not.toContain(tokens.access_token);
    expect(raw).not.toContain(tokens.refresh_token);
    expect(SecretBox.isSealed(row.client_information)).toBe(true);

    expect(await listToolNames(oauth, ref)).toEqual(['admin_echo', 'echo']);
  });

  it.each([
    ['client_secret_basic', PRE_REGISTERED.basic],
    ['client_secret_post', PRE_REGISTERED.post],
  ] as const)('uses a pre-registered client with %s at the token endpoint', async (method, registered) => {
    const ref = await newServer({ ...registered, token_endpoint_auth_method: method });
    const registrations = fixture.counts.registrations;
    const { authorizationUrl } = await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    expect(new URL(authorizationUrl).searchParams.get('client_id')).toBe(registered.client_id);
    expect(fixture.counts.registrations).toBe(registrations);
    const response = await callback(await followToCallback(authorizationUrl, REDIRECT_URI));
    expect(response.status).toBe(200);
    const token = fixture.tokenRequests.at(-1)!;
    if (method === 'client_secret_basic') {
      const expected = Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64');
      expect(token.authorization).toBe(`Basic ${expected}`);
      expect(token.params.get('client_secret')).toBeNull();
    } else {
      expect(token.authorization).toBeUndefined();
      expect(token.params.get('client_id')).toBe(registered.client_id);
      expect(token.params.get('client_secret')).toBe(registered.client_secret);
    }
    expect(await listToolNames(oauth, ref)).toEqual(['admin_echo', 'echo']);
  });

  it('sends a browser that signed in back to the studio’s MCP page, with no code or state in the link', async () => {
    const ref = await newServer();
    const { authorizationUrl } = await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    const page = await callback(await followToCallback(authorizationUrl, REDIRECT_URI), 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers['location']).toBe(
      `http://127.0.0.1:8080/studio/mcp?mcp_oauth=authorized&mcp_server_id=${ref.serverId}`,
    );
    expect(page.headers['cache-control']).toBe('no-store');
    expect(await listToolNames(oauth, ref)).toEqual(['admin_echo', 'echo']);
  });

  it('refuses a replayed, unknown, missing or foreign state with 400 mcp_oauth_state_invalid', async () => {
    const ref = await newServer();
    const { authorizationUrl } = await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    const back = await followToCallback(authorizationUrl, REDIRECT_URI);
    expect((await callback(back)).status).toBe(200);
    const replay = await callback(back);
    expect(replay.status).toBe(400);
    expect(replay.json()).toMatchObject({
      code: 'mcp_oauth_state_invalid',
      detail: 'This sign-in link was already used: start the connection again.',
    });

    const unknown = new URL(back);
    unknown.searchParams.set('state', 'not-a-state-we-issued');
    expect((await callback(unknown)).json()).toMatchObject({
      code: 'mcp_oauth_state_invalid',
      detail: expect.stringContaining('not known'),
    });
    const missing = new URL(back);
    missing.searchParams.delete('state');
    expect((await callback(missing)).json()).toMatchObject({
      code: 'mcp_oauth_state_invalid',
      detail: expect.stringContaining('no state'),
    });

    // A state whose row names another organisation than its server's: never consumed.
    const other = await newServer();
    const second = await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    await runSql(
      context.database.target,
      'update mcp_oauth_states set organization_id = ? where mcp_server_id = ? and used_at is null',
      [other.organizationId, ref.serverId],
    );
    const foreign = await callback(await followToCallback(second.authorizationUrl, REDIRECT_URI));
    expect(foreign.status).toBe(400);
    expect(foreign.json().code).toBe('mcp_oauth_state_invalid');
  });

  it('refuses an expired state', async () => {
    const ref = await newServer();
    const past = oauthInstance({
      store: context.store,
      secretKeyFile: context.secretKeyFile,
      outbound,
      clock: { now: () => new Date(Date.now() - 11 * 60_000) },
    });
    const { authorizationUrl } = await past.begin(ref, { wwwAuthenticate: await challenge() });
    const response = await callback(await followToCallback(authorizationUrl, REDIRECT_URI));
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'mcp_oauth_state_invalid',
      detail: 'This sign-in link has expired: start the connection again.',
    });
  });

  it('deletes states a day past their expiry when a sign-in starts, and keeps younger ones', async () => {
    const ref = await newServer();
    const at = (ms: number) =>
      oauthInstance({
        store: context.store,
        secretKeyFile: context.secretKeyFile,
        outbound,
        clock: { now: () => new Date(Date.now() - ms) },
      });
    await at(26 * 3600_000).begin(ref, { wwwAuthenticate: await challenge() });
    await at(2 * 3600_000).begin(ref, { wwwAuthenticate: await challenge() });
    const count = async () =>
      (
        await runSql(context.database.target, 'select count(*) as n from mcp_oauth_states where mcp_server_id = ?', [
          ref.serverId,
        ])
      )[0].n;
    expect(Number(await count())).toBe(2);
    await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    // The 26-hour-old state (expired 25 h 50 min ago) went; the 2-hour-old one is still "expired".
    expect(Number(await count())).toBe(2);
    const rows = await runSql(
      context.database.target,
      'select created_at from mcp_oauth_states where mcp_server_id = ? order by created_at',
      [ref.serverId],
    );
    expect(Date.now() - Date.parse(rows[0].created_at)).toBeLessThan(3 * 3600_000);
  });

  it('refuses a wrong iss (RFC 9207) and an error from the authorization server, keeping the reason', async () => {
    const ref = await newServer();
    const first = await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    const back = await followToCallback(first.authorizationUrl, REDIRECT_URI);
    back.searchParams.set('iss', 'https://attacker.example');
    const wrong = await callback(back);
    expect(wrong.status).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'mcp_oauth_failed', detail: expect.stringContaining('RFC 9207') });

    const second = await oauth.begin(ref, { wwwAuthenticate: await challenge() });
    const state = new URL(second.authorizationUrl).searchParams.get('state')!;
    const denied = new URL(REDIRECT_URI);
    denied.search = new URLSearchParams({
      error: 'access_denied',
      error_description: 'The user said <no>',
      state,
      iss: fixture.issuer,
    }).toString();
    const page = await callback(denied, 'text/html');
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('access_denied: The user said &lt;no&gt;');
    expect(page.body).not.toContain('<no>');
    expect(page.body).toContain(
      '<a href="http://127.0.0.1:8080/studio/mcp?mcp_oauth=failed">Back to Parley Studio</a>',
    );
    const [row] = await runSql(
      context.database.target,
      'select discovery from mcp_oauth_credentials where mcp_server_id = ?',
      [ref.serverId],
    );
    expect(JSON.parse(row.discovery).lastError).toBe(
      'The authorization server did not grant access (access_denied: The user said <no>)',
    );
  });

  it('refuses protected-resource metadata naming another resource than the server', async () => {
    const ref = { ...(await newServer()), url: fixture.mcpUrl.replace(/\/mcp$/, '/other') };
    await expect(oauth.begin(ref, { wwwAuthenticate: await challenge() })).rejects.toThrow(McpAuthorizationRequired);
    await expect(oauth.begin(ref, { wwwAuthenticate: await challenge() })).rejects.toThrow(/names another resource/);
  });

  it("serves Parley's client metadata document under PUBLIC_URL", async () => {
    const response = await context.parley.app.inject({ method: 'GET', url: '/api/v1/mcp/oauth/client-metadata.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      client_id: 'http://127.0.0.1:8080/api/v1/mcp/oauth/client-metadata.json',
      client_name: 'Parley',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'web',
    });
  });

  it('never puts a token, code, code verifier or client secret in a response or the logs', async () => {
    const box = new SecretBox(ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: context.secretKeyFile }));
    const rows = await runSql(
      context.database.target,
      'select tokens from mcp_oauth_credentials where tokens is not null',
    );
    const secrets = new Set<string>([PRE_REGISTERED.basic.client_secret, PRE_REGISTERED.post.client_secret]);
    for (const row of rows) {
      const tokens = JSON.parse(box.open(row.tokens));
      secrets.add(tokens.access_token);
      if (tokens.refresh_token) secrets.add(tokens.refresh_token);
    }
    for (const request of fixture.tokenRequests) {
      for (const name of ['code', 'code_verifier', 'refresh_token']) {
        const value = request.params.get(name);
        if (value) secrets.add(value);
      }
    }
    expect(rows.length).toBeGreaterThan(2);
    expect(context.logs.length).toBeGreaterThan(0);
    const seen = [...context.logs, ...callbackBodies].join('\n');
    expect([...secrets].filter((secret) => seen.includes(secret))).toEqual([]);
  });
});
