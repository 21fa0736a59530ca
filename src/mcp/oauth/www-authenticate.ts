import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';

export interface BearerChallenge {
  resourceMetadataUrl?: URL;
  scope?: string;
  error?: string;
}

/**
 * The parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3, RFC 9728 §5.1), read
 * by the SDK's parser so both sides of the MCP spec agree on what a header means.
 */
export function parseBearerChallenge(header: string | null | undefined): BearerChallenge {
  if (!header) return {};
  const params = extractWWWAuthenticateParams(new Response(null, { headers: { 'www-authenticate': header } }));
  return {
    ...(params.resourceMetadataUrl ? { resourceMetadataUrl: params.resourceMetadataUrl } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
    ...(params.error ? { error: params.error } : {}),
  };
}
