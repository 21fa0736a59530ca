import { describe, expect, it } from 'vitest';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpAuthorizationRequired } from '../../src/mcp/mcp-authorization.js';
import { chooseClient } from '../../src/mcp/oauth/client-registration.js';
import type { Discovery } from '../../src/mcp/oauth/oauth-records.js';
import { oauthUrls } from '../../src/mcp/oauth/oauth-urls.js';
import { parseBearerChallenge } from '../../src/mcp/oauth/www-authenticate.js';

const ISSUER = 'https://auth.example.com';

function discovery(metadata: Record<string, unknown> = {}): Discovery {
  return {
    authorizationServerUrl: ISSUER,
    issuer: ISSUER,
    metadata: {
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      response_types_supported: ['code'],
      ...metadata,
    },
    resourceMetadata: null,
    resource: 'https://mcp.example.com/mcp',
  };
}

/** A fetch that must not be called: the branches under test make no request. */
const unused: FetchLike = async () => {
  throw new Error('no request expected');
};

describe('MCP OAuth client choice', () => {
  it('prefers the pre-registered client of auth_config, with its secret and method', async () => {
    const client = await chooseClient({
      authConfig: {
        client_id: 'configured',
        client_secret: 's3cret-value',
        token_endpoint_auth_method: 'client_secret_post',
      },
      discovery: discovery({
        registration_endpoint: `${ISSUER}/register`,
        client_id_metadata_document_supported: true,
      }),
      stored: null,
      urls: oauthUrls('https://parley.example.com'),
      scope: undefined,
      send: unused,
    });
    expect(client).toEqual({
      client_id: 'configured',
      client_secret: 's3cret-value',
      token_endpoint_auth_method: 'client_secret_post',
      origin: 'pre_registered',
      issuer: ISSUER,
    });
  });

  it('uses the client metadata document only with an https PUBLIC_URL and an authorization server that supports it', async () => {
    const input = { authConfig: null, stored: null, scope: 'mcp:tools', send: unused };
    const supported = discovery({ client_id_metadata_document_supported: true });
    expect(
      await chooseClient({ ...input, discovery: supported, urls: oauthUrls('https://parley.example.com/') }),
    ).toEqual({
      client_id: 'https://parley.example.com/api/v1/mcp/oauth/client-metadata.json',
      token_endpoint_auth_method: 'none',
      origin: 'metadata_document',
      issuer: ISSUER,
    });
    // Published elsewhere (MCP_OAUTH_CLIENT_METADATA_URL): that URL is the client id, even with an http PUBLIC_URL.
    const published = 'https://cdn.example.com/parley/client-metadata.json';
    expect(
      await chooseClient({ ...input, discovery: supported, urls: oauthUrls('http://127.0.0.1:8080', published) }),
    ).toMatchObject({ client_id: published, origin: 'metadata_document' });
    // Over http the authorization server could not fetch the document securely: no DCR either here.
    const refused = chooseClient({ ...input, discovery: supported, urls: oauthUrls('http://127.0.0.1:8080') });
    await expect(refused).rejects.toThrow(McpAuthorizationRequired);
    await expect(refused).rejects.toThrow(
      'The authorization server https://auth.example.com offers neither dynamic client registration nor client ID metadata documents (those need an https PUBLIC_URL): the server needs a pre-registered client_id in its auth_config',
    );
  });

  it('without registration or metadata documents, says a pre-registered client_id is needed', async () => {
    const choice = chooseClient({
      authConfig: { client_secret: 'a secret without an id' },
      discovery: discovery(),
      stored: null,
      urls: oauthUrls('https://parley.example.com'),
      scope: undefined,
      send: unused,
    });
    await expect(choice).rejects.toThrow(/needs a pre-registered client_id in its auth_config$/);
  });

  it('reuses a dynamic client of the same issuer while its registered scope covers the sign-in', async () => {
    const stored = { client_id: 'dyn', origin: 'dynamic' as const, issuer: ISSUER, scope: 'mcp:tools offline_access' };
    const input = {
      authConfig: null,
      discovery: discovery(),
      stored,
      urls: oauthUrls('https://parley.example.com'),
      send: unused,
    };
    expect(await chooseClient({ ...input, scope: 'mcp:tools' })).toBe(stored);
    // More scope, and no registration endpoint to register again at.
    await expect(chooseClient({ ...input, scope: 'mcp:tools mcp:admin' })).rejects.toThrow(McpAuthorizationRequired);
  });
});

describe('WWW-Authenticate challenges', () => {
  it('reads resource_metadata, scope and error of a Bearer challenge', () => {
    expect(
      parseBearerChallenge(
        'Bearer error="insufficient_scope", scope="mcp:tools mcp:admin", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
      ),
    ).toEqual({
      resourceMetadataUrl: new URL('https://mcp.example.com/.well-known/oauth-protected-resource/mcp'),
      scope: 'mcp:tools mcp:admin',
      error: 'insufficient_scope',
    });
    expect(parseBearerChallenge('Basic realm="x"')).toEqual({});
    expect(parseBearerChallenge(null)).toEqual({});
  });
});
