import type {
  AuthorizationServerMetadata,
  OAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { StoredCredentials } from '../../storage/kysely/mcp-oauth-store.js';

/**
 * What is kept of one server's authorization, as the application sees it once opened. The store
 * holds `client` and `tokens` sealed (SecretBox) and `discovery` as plain JSON: nothing in it is
 * secret (public metadata, URLs, scopes, the reason of the last failure).
 */

/** How the client came to be: configured in `auth_config`, a metadata-document URL, or registered (RFC 7591). */
export type ClientOrigin = 'pre_registered' | 'metadata_document' | 'dynamic';

export interface StoredClient {
  client_id: string;
  client_secret?: string;
  /** The method the client is registered with at the token endpoint, when known. */
  token_endpoint_auth_method?: string;
  origin: ClientOrigin;
  /** The scope a dynamic registration was made for: a sign-in asking for more registers again. */
  scope?: string;
  /** The authorization server the client belongs to (its issuer). */
  issuer: string;
}

export interface StoredTokens {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  scope?: string;
  /** ISO time the access token expires, from `expires_in` when the token was obtained. */
  expires_at?: string;
}

/**
 * An authorization server's metadata as the SDK parsed it, with the fields its OpenID discovery
 * schema drops that Parley uses (RFC 7009 revocation, RFC 9207 `iss`), read from the same document.
 */
export type ServerMetadata = AuthorizationServerMetadata & {
  revocation_endpoint?: string;
  authorization_response_iss_parameter_supported?: boolean;
};

export interface Discovery {
  /** The authorization server's URL as the protected-resource metadata names it. */
  authorizationServerUrl: string;
  /** `issuer` of its metadata: what an `iss` on the callback must equal. */
  issuer: string;
  metadata: ServerMetadata;
  resourceMetadata: OAuthProtectedResourceMetadata | null;
  /** The RFC 8707 `resource` sent on every authorization and token request. */
  resource: string;
  /** The scope the last authorization asked for (space separated), if any. */
  scope?: string;
  /** Scopes a 403 `insufficient_scope` asked for: the next sign-in asks for them too. */
  requiredScopes?: string[];
  /** Why the last sign-in or refresh failed, in words for the user. */
  lastError?: string;
}

/** A credentials row, opened. */
export interface OpenedCredentials {
  version: number;
  client: StoredClient | null;
  tokens: StoredTokens | null;
  discovery: Discovery | null;
}

export function sealJson(box: SecretBox, value: unknown): string {
  return box.seal(JSON.stringify(value));
}

export function openCredentials(box: SecretBox, row: StoredCredentials): OpenedCredentials {
  return {
    version: row.tokenVersion,
    client: row.clientInformation === null ? null : (JSON.parse(box.open(row.clientInformation)) as StoredClient),
    tokens: row.tokens === null ? null : (JSON.parse(box.open(row.tokens)) as StoredTokens),
    discovery: row.discovery === null ? null : (JSON.parse(row.discovery) as Discovery),
  };
}

/** Scope strings joined without repeats, in first-seen order; undefined when none. */
export function unionScopes(...scopes: (string | readonly string[] | undefined | null)[]): string | undefined {
  const all = new Set<string>();
  for (const scope of scopes) {
    if (!scope) continue;
    const parts = typeof scope === 'string' ? scope.split(' ') : scope;
    for (const part of parts) if (part !== '') all.add(part);
  }
  return all.size === 0 ? undefined : [...all].join(' ');
}
