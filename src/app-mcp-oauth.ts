import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Clock } from './ids.js';
import type { McpServerAuthorized } from './mcp/oauth/oauth-callback.js';
import { OAuthAuthorization } from './mcp/oauth/oauth-authorization.js';
import type { OutboundClient } from './outbound/outbound-client.js';
import type { SecretBox } from './security/secret-box.js';
import type { Store } from './storage/store.js';

/**
 * The fetch of the OAuth layer's own requests (metadata, registration, token, revocation): the
 * guarded streaming fetch with limits for small JSON answered promptly, and never following a
 * redirect — a 3xx comes back as it is and fails the step, so a token or registration request
 * (client secret and code in its body) never lands anywhere but the endpoint the metadata names.
 */
export function oauthFetch(outbound: OutboundClient): FetchLike {
  const send = outbound.fetchWith({ headersTimeoutMs: 10_000, idleTimeoutMs: 10_000, maxResponseBytes: 1024 * 1024 });
  return (url, init) => send(url, { ...init, redirect: 'manual' });
}

/**
 * The OAuth layer of MCP servers (docs/mcp-oauth.md), built once per app: its own requests go
 * through the app's guarded outbound client (`oauthFetch`); its secrets are sealed with the app's
 * SecretBox.
 */
export function createMcpOAuth(input: {
  app: FastifyInstance;
  config: Config;
  store: Store;
  clock: Clock;
  box: SecretBox;
  outbound: OutboundClient;
  /** After a sign-in stored tokens: the MCP servers service reconnects the server and syncs its tools. */
  onAuthorized?: McpServerAuthorized;
}): OAuthAuthorization {
  const { config } = input;
  return new OAuthAuthorization({
    store: input.store,
    box: input.box,
    clock: input.clock,
    publicUrl: config.mcp.oauth.publicUrl,
    clientMetadataUrl: config.mcp.oauth.clientMetadataUrl,
    guardedFetch: oauthFetch(input.outbound),
    stateTtlMs: config.mcp.oauth.stateTtlSeconds * 1000,
    ...(input.onAuthorized ? { onAuthorized: input.onAuthorized } : {}),
    log: input.app.log,
  });
}
