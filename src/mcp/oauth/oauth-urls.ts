/** The callback route: the only redirect URI Parley registers or sends. */
export const CALLBACK_PATH = '/api/v1/mcp/oauth/callback';
/** Parley's Client ID Metadata Document; its URL is the client id where that scheme is used. */
export const CLIENT_METADATA_PATH = '/api/v1/mcp/oauth/client-metadata.json';

export interface OAuthUrls {
  redirectUri: string;
  clientMetadataUrl: string;
}

/**
 * The URLs under PUBLIC_URL (no trailing slash) the authorization server and the browser see. The
 * metadata document's URL can be another one (MCP_OAUTH_CLIENT_METADATA_URL: where the operator
 * publishes the document this server serves); it is then the client id.
 */
export function oauthUrls(publicUrl: string, clientMetadataUrl?: string): OAuthUrls {
  const base = publicUrl.endsWith('/') ? publicUrl.slice(0, -1) : publicUrl;
  return {
    redirectUri: `${base}${CALLBACK_PATH}`,
    clientMetadataUrl: clientMetadataUrl ?? `${base}${CLIENT_METADATA_PATH}`,
  };
}
