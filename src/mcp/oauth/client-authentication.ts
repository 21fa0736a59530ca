import { selectClientAuthMethod, type AddClientAuthentication } from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthorizationServerMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { StoredClient } from './oauth-records.js';

/**
 * How the client authenticates at the token and revocation endpoints: the method it is registered
 * with when the server lists it (or lists none), else the best the server advertises
 * (`client_secret_basic`, `client_secret_post`, then `none`) — the SDK's choice. `extra` adds
 * parameters to the request (the wider `scope` of a step-up refresh, which the SDK's refresh
 * helper has no argument for).
 */
export function clientAuthentication(
  client: StoredClient,
  metadata: AuthorizationServerMetadata,
  extra: Readonly<Record<string, string>> = {},
): AddClientAuthentication {
  const method = selectClientAuthMethod(
    {
      client_id: client.client_id,
      ...(client.client_secret ? { client_secret: client.client_secret } : {}),
      ...(client.token_endpoint_auth_method ? { token_endpoint_auth_method: client.token_endpoint_auth_method } : {}),
      redirect_uris: [],
    },
    metadata.token_endpoint_auth_methods_supported ?? [],
  );
  return (headers, params) => {
    for (const [name, value] of Object.entries(extra)) params.set(name, value);
    if (method === 'client_secret_basic' && client.client_secret !== undefined) {
      // RFC 6749 §2.3.1: both parts form-encoded before base64.
      const pair = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`;
      headers.set('Authorization', `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`);
      return;
    }
    params.set('client_id', client.client_id);
    if (method === 'client_secret_post' && client.client_secret !== undefined)
      params.set('client_secret', client.client_secret);
  };
}
