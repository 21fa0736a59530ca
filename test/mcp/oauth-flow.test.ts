import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpServerRef } from '../../src/mcp/mcp-authorization.js';
import type { OAuthAuthorization } from '../../src/mcp/oauth/oauth-authorization.js';
import type { OutboundClient } from '../../src/outbound/outbound-client.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { ServerSecret } from '../../src/security/server-secret.js';
import { startOAuthMcpServer, type OAuthMcpServer } from '../fixtures/oauth-mcp-server.js';
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
});
