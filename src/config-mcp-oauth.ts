import { ConfigError, readInteger, readOptional, type Environment } from './config-values.js';

/** OAuth for MCP servers (docs/mcp-oauth.md). */
export interface McpOAuthConfig {
  /**
   * `PUBLIC_URL`: the server's public base URL, without a trailing slash. The OAuth callback
   * (`<PUBLIC_URL>/api/v1/mcp/oauth/callback`) and Parley's client metadata document live under it.
   * Derived from HOST and PORT when unset (`publicUrlConfigured` false; `serve` notes it).
   */
  readonly publicUrl: string;
  readonly publicUrlConfigured: boolean;
  /**
   * `MCP_OAUTH_CLIENT_METADATA_URL`: an https URL where the operator publishes Parley's client
   * metadata document (as served at /api/v1/mcp/oauth/client-metadata.json), used as the client id
   * with authorization servers that accept such documents; under PUBLIC_URL when unset.
   */
  readonly clientMetadataUrl: string | undefined;
  /** How long a sign-in link (its `state`) stays valid. */
  readonly stateTtlSeconds: number;
}

export const MCP_OAUTH_DEFAULTS = { MCP_OAUTH_STATE_TTL_SECONDS: 600 } as const;

export function readMcpOAuth(environment: Environment, host: string, port: number): McpOAuthConfig {
  const configured = readOptional(environment, 'PUBLIC_URL');
  return Object.freeze({
    publicUrl: configured === undefined ? derivedPublicUrl(host, port) : readPublicUrl(configured),
    publicUrlConfigured: configured !== undefined,
    clientMetadataUrl: readClientMetadataUrl(readOptional(environment, 'MCP_OAUTH_CLIENT_METADATA_URL')),
    stateTtlSeconds: readInteger(
      environment,
      'MCP_OAUTH_STATE_TTL_SECONDS',
      MCP_OAUTH_DEFAULTS.MCP_OAUTH_STATE_TTL_SECONDS,
      {
        min: 60,
        max: 3600,
      },
    ),
  });
}

/** An http(s) origin with an optional path prefix; no query, fragment or credentials. */
function readPublicUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(
      'PUBLIC_URL',
      `must be an http:// or https:// URL without query, fragment or credentials, got "${value}"`,
    );
  }
  return url.href.replace(/\/$/, '');
}

/** `http://HOST:PORT`, with a wildcard address read as this machine. */
function derivedPublicUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

/** An https URL with a path (the client id must be one, per the metadata document draft). */
function readClientMetadataUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || url.pathname === '/' || url.hash || url.username || url.password) {
    throw new ConfigError('MCP_OAUTH_CLIENT_METADATA_URL', `must be an https:// URL with a path, got "${value}"`);
  }
  return url.href;
}
