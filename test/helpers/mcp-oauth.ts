import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { DatabaseTarget } from '../../src/config.js';
import type { Clock } from '../../src/ids.js';
import type { McpServerRef } from '../../src/mcp/mcp-authorization.js';
import { oauthFetch } from '../../src/app-mcp-oauth.js';
import { OAuthAuthorization } from '../../src/mcp/oauth/oauth-authorization.js';
import type { RefreshTiming } from '../../src/mcp/oauth/token-refresher.js';
import { parseOutboundAllow } from '../../src/outbound/allow-list.js';
import { createOutboundClient, type OutboundClient } from '../../src/outbound/outbound-client.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { ServerSecret } from '../../src/security/server-secret.js';
import type { Store } from '../../src/storage/store.js';

/** Helpers of the MCP OAuth tests: rows the FKs need, the browser's part of a sign-in, SDK clients. */

/** One statement with `?` placeholders on either dialect; the rows it returns. */
export async function runSql(target: DatabaseTarget, text: string, params: unknown[] = []): Promise<any[]> {
  if (target.kind === 'sqlite') {
    const db = new Database(target.filename);
    try {
      const statement = db.prepare(text);
      return statement.reader ? statement.all(...params) : (statement.run(...params), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    let index = 0;
    const result = await client.query(
      text.replace(/\?/g, () => `$${++index}`),
      params,
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

/** An `mcp_servers` row (owned by the MCP servers API; inserted here for the foreign keys). */
export async function insertMcpServer(
  target: DatabaseTarget,
  input: { organizationId: string; agentId: string; url: string },
): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await runSql(
    target,
    `insert into mcp_servers (id, organization_id, agent_id, name, url, auth_config, status, created_at, updated_at)
     values (?, ?, ?, ?, ?, null, 'registered', ?, ?)`,
    [id, input.organizationId, input.agentId, 'OAuth fixture', input.url, now, now],
  );
  return id;
}

/** A guarded outbound client that may reach loopback (the fixture), as OUTBOUND_ALLOW would allow. */
export function loopbackOutbound(): OutboundClient {
  return createOutboundClient({ allow: parseOutboundAllow('127.0.0.1') });
}

/** Another "process": an OAuthAuthorization of its own over `store`, with the app's root secret. */
export function oauthInstance(input: {
  store: Store;
  secretKeyFile: string;
  outbound: OutboundClient;
  clock?: Clock;
  publicUrl?: string;
  refreshTiming?: RefreshTiming;
}): OAuthAuthorization {
  return new OAuthAuthorization({
    store: input.store,
    box: new SecretBox(ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: input.secretKeyFile })),
    clock: input.clock ?? { now: () => new Date() },
    publicUrl: input.publicUrl ?? 'http://127.0.0.1:8080',
    guardedFetch: oauthFetch(input.outbound),
    stateTtlMs: 600_000,
    ...(input.refreshTiming ? { refreshTiming: input.refreshTiming } : {}),
  });
}

/**
 * The browser's part: follows the authorization server's redirects (keeping its cookies, as a
 * browser would) until one points at `redirectUri`, and returns that URL unvisited.
 */
export async function followToCallback(authorizationUrl: string, redirectUri: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let next = authorizationUrl;
  for (let hop = 0; hop < 10; hop += 1) {
    if (next.startsWith(redirectUri)) return new URL(next);
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(next, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const separator = pair!.indexOf('=');
      cookies.set(pair!.slice(0, separator), pair!.slice(separator + 1));
    }
    const location = response.headers.get('location');
    await response.body?.cancel();
    if (!location)
      throw new Error(`The authorization server answered ${response.status} without a redirect at ${next}`);
    next = new URL(location, next).href;
  }
  throw new Error('Too many redirects before the callback');
}

/** A plain loopback fetch (test code): what the guarded streaming fetch of the MCP transport will be. */
export const loopbackFetch: FetchLike = (url, init) => fetch(url, init);

/** The tool names an SDK client lists over `fetchFor(ref, loopbackFetch)`. */
export async function listToolNames(oauth: OAuthAuthorization, ref: McpServerRef): Promise<string[]> {
  const client = await connectClient(oauth, ref);
  try {
    return (await client.listTools()).tools.map((tool) => tool.name).sort();
  } finally {
    await client.close();
  }
}

export async function connectClient(oauth: OAuthAuthorization, ref: McpServerRef): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(ref.url), { fetch: oauth.fetchFor(ref, loopbackFetch) });
  const client = new Client({ name: 'parley-oauth-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}
