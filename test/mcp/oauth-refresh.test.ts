import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpAuthorizationRequired, type McpServerRef } from '../../src/mcp/mcp-authorization.js';
import type { OAuthAuthorization } from '../../src/mcp/oauth/oauth-authorization.js';
import type { OutboundClient } from '../../src/outbound/outbound-client.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { ServerSecret } from '../../src/security/server-secret.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { startOAuthMcpServer, type OAuthMcpServer } from '../fixtures/oauth-mcp-server.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import {
  connectClient,
  followToCallback,
  insertMcpServer,
  listToolNames,
  loopbackOutbound,
  oauthInstance,
  runSql,
} from '../helpers/mcp-oauth.js';

/**
 * Refresh, across processes: two OAuthAuthorization instances over two connections to one
 * database (SQLite file, or PostgreSQL under test:pg) stand for two Parley processes.
 */
const REDIRECT_URI = 'http://127.0.0.1:8080/api/v1/mcp/oauth/callback';
const TWO_HOURS = 2 * 60 * 60_000;

let context: TestContext;
let fixture: OAuthMcpServer;
let outbound: OutboundClient;
let otherStore: Store;
let oauth: OAuthAuthorization;

beforeAll(async () => {
  fixture = await startOAuthMcpServer({ redirectUris: [REDIRECT_URI] });
  context = await createTestContext({ outboundAllow: '127.0.0.1' });
  outbound = loopbackOutbound();
  otherStore = await openStore(context.database.target);
  oauth = instance(context.store);
});

afterAll(async () => {
  await otherStore?.close();
  await outbound?.close();
  await context?.close();
  await fixture?.close();
});

function instance(store: Store, offsetMs = 0): OAuthAuthorization {
  return oauthInstance({
    store,
    secretKeyFile: context.secretKeyFile,
    outbound,
    clock: { now: () => new Date(Date.now() + offsetMs) },
  });
}

async function signedInServer(): Promise<McpServerRef> {
  const organization = await context.newOrganization();
  const agent = await client(context, organization.key).createAgent({ name: 'MCP OAuth agent' });
  const serverId = await insertMcpServer(context.database.target, {
    organizationId: organization.organizationId,
    agentId: agent.id,
    url: fixture.mcpUrl,
  });
  const ref = { organizationId: organization.organizationId, serverId, url: fixture.mcpUrl, authConfig: null };
  await signIn(ref);
  return ref;
}

async function signIn(ref: McpServerRef): Promise<void> {
  const probe = await fetch(fixture.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const { authorizationUrl } = await oauth.begin(ref, { wwwAuthenticate: probe.headers.get('www-authenticate') });
  const back = await followToCallback(authorizationUrl, REDIRECT_URI);
  const response = await context.parley.app.inject({
    method: 'GET',
    url: `${back.pathname}${back.search}`,
    headers: { accept: 'application/json' },
  });
  expect(response.statusCode, response.body).toBe(200);
}

async function storedTokens(ref: McpServerRef): Promise<{ row: any; tokens: any }> {
  const [row] = await runSql(context.database.target, 'select * from mcp_oauth_credentials where mcp_server_id = ?', [
    ref.serverId,
  ]);
  const box = new SecretBox(ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: context.secretKeyFile }));
  return { row, tokens: row?.tokens ? JSON.parse(box.open(row.tokens)) : null };
}

describe('MCP OAuth: refresh', () => {
  it('refreshes an access token that is about to expire before using it', async () => {
    const ref = await signedInServer();
    const before = await storedTokens(ref);
    const refreshes = fixture.counts.refresh;
    expect(await listToolNames(instance(context.store, TWO_HOURS), ref)).toEqual(['admin_echo', 'echo']);
    expect(fixture.counts.refresh).toBe(refreshes + 1);
    const after = await storedTokens(ref);
    expect(Number(after.row.token_version)).toBe(Number(before.row.token_version) + 1);
    expect(after.tokens.access_token).not.toBe(before.tokens.access_token);
    // Rotation: the refresh token is a new one too.
    expect(after.tokens.refresh_token).not.toBe(before.tokens.refresh_token);
    expect(after.row.refresh_lease_owner).toBeNull();
  });

  it('refreshes once on a 401 mid-session and retries the request', async () => {
    const ref = await signedInServer();
    const mcp = await connectClient(oauth, ref);
    try {
      fixture.invalidateAccessTokens();
      const refreshes = fixture.counts.refresh;
      const result = await mcp.callTool({ name: 'echo', arguments: { text: 'still here' } });
      expect(result.content).toEqual([{ type: 'text', text: 'still here' }]);
      expect(fixture.counts.refresh).toBe(refreshes + 1);
    } finally {
      await mcp.close();
    }
  });

  it('lets exactly one of two processes spend a rotating refresh token; both keep working', async () => {
    const ref = await signedInServer();
    const first = instance(context.store, TWO_HOURS);
    const second = instance(otherStore, TWO_HOURS);
    const refreshes = fixture.counts.refresh;
    // The token endpoint takes its time: whoever comes second finds the refresh still under way.
    fixture.tokenDelayMs = 300;
    try {
      const results = await Promise.all([
        listToolNames(first, ref),
        listToolNames(second, ref),
        listToolNames(first, ref),
        listToolNames(second, ref),
      ]);
      expect(results).toEqual(Array(4).fill(['admin_echo', 'echo']));
    } finally {
      fixture.tokenDelayMs = 0;
    }
    expect(fixture.counts.refresh).toBe(refreshes + 1);
    const after = await storedTokens(ref);
    expect(after.row.refresh_lease_owner).toBeNull();
    // Both still work afterwards with the winner's tokens, without another refresh.
    expect(await listToolNames(second, ref)).toEqual(['admin_echo', 'echo']);
    expect(fixture.counts.refresh).toBe(refreshes + 1);
  });

  it('asks for one step-up on 403 insufficient_scope, never loops, and the next sign-in asks for the scope', async () => {
    const ref = await signedInServer();
    const mcp = await connectClient(oauth, ref);
    try {
      const refreshes = fixture.counts.refresh;
      const call = () => mcp.callTool({ name: 'admin_echo', arguments: { text: 'hi' } });
      await expect(call()).rejects.toThrow('insufficient_scope: the server needs the scope "mcp:tools mcp:admin"');
      // One refresh asking for the wider scope (which the authorization server refuses)…
      expect(fixture.counts.refresh).toBe(refreshes + 1);
      expect(fixture.tokenRequests.at(-1)!.params.get('scope')).toBe('mcp:tools offline_access mcp:admin');
      // …and none again for the same scope.
      await expect(call()).rejects.toThrow(McpAuthorizationRequired);
      expect(fixture.counts.refresh).toBe(refreshes + 1);
      expect((await storedTokens(ref)).tokens.access_token).toEqual(expect.any(String));
    } finally {
      await mcp.close();
    }
    const requests = fixture.authorizationRequests.length;
    await signIn(ref);
    expect(fixture.authorizationRequests[requests]!.get('scope')).toBe('mcp:tools mcp:admin offline_access');
    const wider = await connectClient(oauth, ref);
    try {
      const result = await wider.callTool({ name: 'admin_echo', arguments: { text: 'hi' } });
      expect(result.content).toEqual([{ type: 'text', text: 'admin: hi' }]);
    } finally {
      await wider.close();
    }
  });

  it('revokes at the authorization server and forgets the credentials and pending sign-ins', async () => {
    const ref = await signedInServer();
    await oauth.begin(ref, { wwwAuthenticate: null });
    const revocations = fixture.counts.revocations;
    await oauth.revoke(ref);
    expect(fixture.counts.revocations).toBe(revocations + 2);
    expect(
      await runSql(context.database.target, 'select * from mcp_oauth_credentials where mcp_server_id = ?', [
        ref.serverId,
      ]),
    ).toEqual([]);
    expect(
      await runSql(context.database.target, 'select * from mcp_oauth_states where mcp_server_id = ?', [ref.serverId]),
    ).toEqual([]);
    // Without credentials, requests pass through untouched: the server answers 401 again.
    await expect(listToolNames(oauth, ref)).rejects.toThrow(/invalid_token/);
  });

  it('turns a revoked grant into McpAuthorizationRequired and keeps the credentials', async () => {
    const ref = await signedInServer();
    await fixture.revokeGrants();
    const error = await listToolNames(oauth, ref).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(McpAuthorizationRequired);
    expect((error as McpAuthorizationRequired).reason).toMatch(
      /^The authorization server refused to refresh the token \(invalid_grant/,
    );
    const after = await storedTokens(ref);
    expect(after.tokens.refresh_token).toEqual(expect.any(String));
    expect(JSON.parse(after.row.discovery).lastError).toBe((error as McpAuthorizationRequired).reason);
  });

  it('needs a new sign-in when the stored credentials were sealed with a key this server lacks', async () => {
    const ref = await signedInServer();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-other-key-'));
    try {
      const stranger = oauthInstance({
        store: context.store,
        secretKeyFile: path.join(directory, 'secret.key'),
        outbound,
      });
      const error = await listToolNames(stranger, ref).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(McpAuthorizationRequired);
      expect((error as McpAuthorizationRequired).reason).toMatch(/sealed with a key this server does not have/);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
