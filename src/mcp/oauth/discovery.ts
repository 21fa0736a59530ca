import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { checkResourceAllowed, resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpAuthorizationRequired } from '../mcp-authorization.js';
import type { Discovery, ServerMetadata } from './oauth-records.js';
import type { BearerChallenge } from './www-authenticate.js';

/**
 * Where a server's tokens come from, found the way the MCP authorization spec (2025-11-25) lists:
 * the protected-resource metadata (RFC 9728) at the challenge's `resource_metadata` URL, else the
 * path-aware well-known URL, else the root one; its first authorization server (or, for servers
 * without that metadata, the server's origin, as the 2025-03-26 spec had it); that server's
 * metadata by RFC 8414 then OpenID discovery, path-aware variants included (the SDK's order).
 * Every request goes through `send`, the guarded fetch.
 *
 * Refused, as sign-in that cannot work: metadata whose `resource` is not this server (RFC 9728
 * §3.3), metadata whose `issuer` is not the URL it was found for (RFC 8414 §3.3), an authorization
 * server without metadata, one without the code flow, and one that lists PKCE methods without S256.
 */
export async function discover(input: {
  serverUrl: string;
  challenge: BearerChallenge;
  send: FetchLike;
}): Promise<Discovery> {
  const { serverUrl, challenge, send } = input;
  const canonical = canonicalServerUrl(serverUrl);
  const resourceMetadata = await protectedResourceMetadata(serverUrl, challenge, send);
  if (
    resourceMetadata &&
    !checkResourceAllowed({ requestedResource: canonical, configuredResource: resourceMetadata.resource })
  ) {
    throw new McpAuthorizationRequired(
      `The server's protected-resource metadata names another resource (${resourceMetadata.resource}), not ${canonical}; refusing to sign in to it`,
    );
  }
  const authorizationServerUrl = resourceMetadata?.authorization_servers?.[0] ?? new URL('/', serverUrl).href;
  const metadata = await authorizationServerMetadata(authorizationServerUrl, send);
  if (!metadata) {
    throw new McpAuthorizationRequired(
      `The authorization server ${authorizationServerUrl} publishes no metadata (RFC 8414 or OpenID discovery)`,
    );
  }
  if (withoutTrailingSlash(metadata.issuer) !== withoutTrailingSlash(authorizationServerUrl)) {
    throw new McpAuthorizationRequired(
      `The authorization server metadata found for ${authorizationServerUrl} names another issuer (${metadata.issuer}); refusing it`,
    );
  }
  if (!metadata.response_types_supported.includes('code')) {
    throw new McpAuthorizationRequired(
      `The authorization server ${metadata.issuer} does not offer the authorization code flow`,
    );
  }
  const methods = metadata.code_challenge_methods_supported;
  if (methods && !methods.includes('S256')) {
    throw new McpAuthorizationRequired(`The authorization server ${metadata.issuer} does not support PKCE with S256`);
  }
  return {
    authorizationServerUrl,
    issuer: metadata.issuer,
    metadata,
    resourceMetadata,
    // The identifier exactly as the resource publishes it (a pathless one without an added "/"),
    // else this server's canonical URL.
    resource: resourceMetadata?.resource ?? canonical,
  };
}

/** The server's URL as an RFC 8707 resource: no fragment, scheme and host in lower case. */
export function canonicalServerUrl(serverUrl: string): string {
  return resourceUrlFromServerUrl(serverUrl).href;
}

async function protectedResourceMetadata(
  serverUrl: string,
  challenge: BearerChallenge,
  send: FetchLike,
): Promise<OAuthProtectedResourceMetadata | null> {
  try {
    return await discoverOAuthProtectedResourceMetadata(
      serverUrl,
      challenge.resourceMetadataUrl ? { resourceMetadataUrl: challenge.resourceMetadataUrl } : {},
      send,
    );
  } catch (error) {
    // A server without the metadata is the older spec's case (the origin is the authorization
    // server); a refused or failed request is not, and says so.
    if (error instanceof Error && error.message.includes('does not implement OAuth 2.0 Protected Resource Metadata'))
      return null;
    throw error;
  }
}

/**
 * The SDK's discovery (RFC 8414, then OpenID, path-aware variants), plus what its OpenID schema
 * strips and Parley needs, read from the document it accepted (the last successful response).
 */
async function authorizationServerMetadata(url: string, send: FetchLike): Promise<ServerMetadata | undefined> {
  let raw: unknown;
  const capturing: FetchLike = async (target, init) => {
    const response = await send(target, init);
    if (response.ok)
      raw = await response
        .clone()
        .json()
        .catch(() => undefined);
    return response;
  };
  const parsed = await discoverAuthorizationServerMetadata(url, { fetchFn: capturing });
  if (!parsed) return undefined;
  const document = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const revocation = document['revocation_endpoint'];
  const iss = document['authorization_response_iss_parameter_supported'];
  return {
    ...(typeof revocation === 'string' && /^https?:\/\//.test(revocation) ? { revocation_endpoint: revocation } : {}),
    ...(typeof iss === 'boolean' ? { authorization_response_iss_parameter_supported: iss } : {}),
    ...parsed,
  };
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
