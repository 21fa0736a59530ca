import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { FastifyBaseLogger } from 'fastify';
import { clientAuthentication } from './client-authentication.js';
import type { Discovery, StoredClient, StoredTokens } from './oauth-records.js';

/**
 * RFC 7009 revocation of a server's tokens, when its authorization server has a
 * `revocation_endpoint`: the refresh token first (revoking it usually ends the grant), then the
 * access token. Best effort: a failure is logged (without the token) and never stops the caller,
 * which forgets the tokens either way.
 */
export async function revokeTokens(input: {
  client: StoredClient;
  tokens: StoredTokens;
  discovery: Discovery;
  send: FetchLike;
  log?: FastifyBaseLogger | undefined;
}): Promise<void> {
  const { client, tokens, discovery, send, log } = input;
  const endpoint = discovery.metadata.revocation_endpoint;
  if (!endpoint) return;
  const targets: [string, string][] = [];
  if (tokens.refresh_token) targets.push([tokens.refresh_token, 'refresh_token']);
  targets.push([tokens.access_token, 'access_token']);
  for (const [token, hint] of targets) {
    try {
      const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
      const params = new URLSearchParams({ token, token_type_hint: hint });
      await clientAuthentication(client, discovery.metadata)(headers, params, endpoint, discovery.metadata);
      const response = await send(endpoint, { method: 'POST', headers, body: params.toString(), redirect: 'manual' });
      await response.body?.cancel();
      if (!response.ok) log?.warn({ status: response.status, hint }, 'MCP OAuth token revocation was refused');
    } catch (error) {
      log?.warn(
        { err: error instanceof Error ? error.message : String(error), hint },
        'MCP OAuth token revocation failed',
      );
    }
  }
}
