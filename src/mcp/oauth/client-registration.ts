import { registerClient } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpAuthorizationRequired } from '../mcp-authorization.js';
import type { Discovery, StoredClient } from './oauth-records.js';
import type { OAuthUrls } from './oauth-urls.js';

/**
 * The client Parley signs in as, in this order (MCP authorization spec, "Client registration"):
 *
 * 1. the server's pre-registered client (`auth_config.client_id`, with `client_secret` and
 *    `token_endpoint_auth_method` when it has them);
 * 2. the client already stored for this same authorization server — a dynamic one only while
 *    the scope it was registered for covers the scope asked for (a step-up registers again);
 * 3. a Client ID Metadata Document: the client id is the URL of Parley's document, served at
 *    PUBLIC_URL — only when the authorization server says it supports them and PUBLIC_URL is
 *    https (the server fetches the document, so it must be public and secure);
 * 4. dynamic registration (RFC 7591) at the server's `registration_endpoint`.
 *
 * Otherwise only a configured client can work, and the error says so.
 */
export async function chooseClient(input: {
  authConfig: Record<string, unknown> | null;
  discovery: Discovery;
  stored: StoredClient | null;
  urls: OAuthUrls;
  scope: string | undefined;
  send: FetchLike;
}): Promise<StoredClient> {
  const { authConfig, discovery, stored, urls } = input;
  const issuer = discovery.issuer;
  const configured = preRegisteredClient(authConfig, issuer);
  if (configured) return configured;
  if (stored && stored.origin !== 'pre_registered' && stored.issuer === issuer) {
    if (stored.origin === 'dynamic' && covers(stored.scope, input.scope)) return stored;
    if (stored.origin === 'metadata_document' && stored.client_id === urls.clientMetadataUrl) return stored;
  }
  const { metadata } = discovery;
  if (metadata.client_id_metadata_document_supported === true && urls.clientMetadataUrl.startsWith('https://')) {
    return {
      client_id: urls.clientMetadataUrl,
      token_endpoint_auth_method: 'none',
      origin: 'metadata_document',
      issuer,
    };
  }
  if (metadata.registration_endpoint) {
    const registered = await registerClient(discovery.authorizationServerUrl, {
      metadata,
      clientMetadata: clientMetadata(urls, registrationAuthMethod(metadata.token_endpoint_auth_methods_supported)),
      ...(input.scope ? { scope: input.scope } : {}),
      fetchFn: input.send,
    });
    return {
      client_id: registered.client_id,
      ...(registered.client_secret ? { client_secret: registered.client_secret } : {}),
      ...(registered.token_endpoint_auth_method
        ? { token_endpoint_auth_method: registered.token_endpoint_auth_method }
        : {}),
      origin: 'dynamic',
      ...((registered.scope ?? input.scope) ? { scope: registered.scope ?? input.scope } : {}),
      issuer,
    };
  }
  throw new McpAuthorizationRequired(
    `The authorization server ${issuer} offers neither dynamic client registration nor client ID metadata documents${
      metadata.client_id_metadata_document_supported === true ? ' (those need an https PUBLIC_URL)' : ''
    }: the server needs a pre-registered client_id in its auth_config`,
  );
}

/** What Parley says of itself as an OAuth client: the DCR request body and the metadata document. */
export function clientMetadata(urls: OAuthUrls, authMethod = 'none'): OAuthClientMetadata {
  const { client_id: _documentUrl, ...metadata } = clientMetadataDocument(urls);
  return { ...metadata, token_endpoint_auth_method: authMethod } as OAuthClientMetadata;
}

/**
 * The Client ID Metadata Document served at CLIENT_METADATA_PATH: its own URL as client_id, a
 * public client (PKCE). `application_type` web: Parley is a web server and its redirect URI its
 * own public URL (SEP-837).
 */
export function clientMetadataDocument(urls: OAuthUrls) {
  return {
    client_id: urls.clientMetadataUrl,
    client_name: 'Parley',
    redirect_uris: [urls.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'web',
  };
}

function preRegisteredClient(authConfig: Record<string, unknown> | null, issuer: string): StoredClient | null {
  const clientId = authConfig?.['client_id'];
  if (typeof clientId !== 'string' || clientId === '') return null;
  const secret = authConfig?.['client_secret'];
  const method = authConfig?.['token_endpoint_auth_method'];
  return {
    client_id: clientId,
    ...(typeof secret === 'string' && secret !== '' ? { client_secret: secret } : {}),
    ...(typeof method === 'string' && method !== '' ? { token_endpoint_auth_method: method } : {}),
    origin: 'pre_registered',
    issuer,
  };
}

/** Whether a client registered for `registered` may ask for `wanted` (no registered scope: anything). */
function covers(registered: string | undefined, wanted: string | undefined): boolean {
  if (!registered || !wanted) return true;
  const allowed = new Set(registered.split(' '));
  return wanted.split(' ').every((scope) => allowed.has(scope));
}

/** A public client (PKCE only) where the server allows one, else a secret the server takes. */
function registrationAuthMethod(supported: readonly string[] | undefined): string {
  if (!supported || supported.length === 0 || supported.includes('none')) return 'none';
  return supported.includes('client_secret_basic') ? 'client_secret_basic' : 'client_secret_post';
}
