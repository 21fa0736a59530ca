/** The callback route: the only redirect URI Parley registers or sends. */
export const CALLBACK_PATH = '/api/v1/mcp/oauth/callback';
/** Parley's Client ID Metadata Document; its URL is the client id where that scheme is used. */
export const CLIENT_METADATA_PATH = '/api/v1/mcp/oauth/client-metadata.json';

export interface OAuthUrls {
  redirectUri: string;
  clientMetadataUrl: string;
}

/** The URLs under PUBLIC_URL (no trailing slash) the authorization server and the browser see. */
export function oauthUrls(publicUrl: string): OAuthUrls {
  const base = publicUrl.endsWith('/') ? publicUrl.slice(0, -1) : publicUrl;
  return { redirectUri: `${base}${CALLBACK_PATH}`, clientMetadataUrl: `${base}${CLIENT_METADATA_PATH}` };
}
