import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Clock } from './ids.js';
import { guardedFetch } from './mcp/oauth/guarded-fetch.js';
import type { McpServerAuthorized } from './mcp/oauth/oauth-callback.js';
import { OAuthAuthorization } from './mcp/oauth/oauth-authorization.js';
import type { OutboundClient } from './outbound/outbound-client.js';
import { SecretBox } from './security/secret-box.js';
import type { ServerSecret } from './security/server-secret.js';
import type { Store } from './storage/store.js';

/**
 * The OAuth layer of MCP servers (docs/mcp-oauth.md), built once per app: its own requests go
 * through the app's guarded outbound client; its secrets are sealed with the app's root secret.
 */
export function createMcpOAuth(input: {
  app: FastifyInstance;
  config: Config;
  store: Store;
  clock: Clock;
  secret: ServerSecret;
  outbound: OutboundClient;
  /** After a sign-in stored tokens: the MCP servers service reconnects the server and syncs its tools. */
  onAuthorized?: McpServerAuthorized;
}): OAuthAuthorization {
  const { config } = input;
  return new OAuthAuthorization({
    store: input.store,
    box: new SecretBox(input.secret),
    clock: input.clock,
    publicUrl: config.mcpOAuth.publicUrl,
    guardedFetch: guardedFetch(input.outbound),
    stateTtlMs: config.mcpOAuth.stateTtlSeconds * 1000,
    ...(input.onAuthorized ? { onAuthorized: input.onAuthorized } : {}),
    log: input.app.log,
  });
}
