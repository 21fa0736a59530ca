import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Clock } from '../../ids.js';
import type { McpServerKey } from '../../storage/kysely/mcp-oauth-store.js';
import { McpAuthorizationRequired } from '../mcp-authorization.js';
import type { OpenedCredentials, StoredTokens } from './oauth-records.js';
import { unionScopes } from './oauth-records.js';
import { parseBearerChallenge } from './www-authenticate.js';

interface AuthorizedFetchInput {
  key: McpServerKey;
  /** The guarded fetch the MCP transport was given. */
  send: FetchLike;
  read(key: McpServerKey): Promise<OpenedCredentials | null>;
  refresh(key: McpServerKey, usedVersion: number, scope?: string): Promise<OpenedCredentials>;
  /** Records the scopes of an insufficient_scope challenge; true when any was new. */
  requireScopes(key: McpServerKey, scope: string): Promise<boolean>;
  clock: Clock;
  marginMs: number;
}

/**
 * One server's MCP requests with its bearer token (MCP spec, "Access token usage"):
 *
 * - no stored tokens: the request goes out untouched (a public server, or one not signed in yet,
 *   whose 401 the connect code hands to `begin`);
 * - a token that expires within the margin is refreshed first;
 * - a 401 refreshes once and retries once; a second 401 needs a sign-in;
 * - a 403 `insufficient_scope` is one step-up: the scopes are recorded (the next sign-in asks for
 *   them), and — only when they are new and a refresh token exists — one refresh asking for the
 *   wider scope and one retry. Never a loop: a scope already asked for goes straight to sign-in.
 *
 * The credentials are read per request, so a token another process refreshed is used at once.
 */
export function authorizedFetch(input: AuthorizedFetchInput): FetchLike {
  const { key, send } = input;
  return async (url, init) => {
    let credentials = await input.read(key);
    if (!credentials?.tokens) return send(url, init);
    if (expiresSoon(credentials.tokens, input.clock, input.marginMs)) {
      credentials = await input.refresh(key, credentials.version);
    }
    let response = await send(url, withBearer(init, tokenOf(credentials)));
    if (response.status === 401 && replayable(init)) {
      await response.body?.cancel();
      credentials = await input.refresh(key, credentials.version);
      response = await send(url, withBearer(init, tokenOf(credentials)));
      if (response.status === 401) {
        await response.body?.cancel();
        throw new McpAuthorizationRequired('The server refused a freshly refreshed access token: sign in again');
      }
    }
    if (response.status !== 403) return response;
    const challenge = parseBearerChallenge(response.headers.get('www-authenticate'));
    if (challenge.error !== 'insufficient_scope') return response;
    await response.body?.cancel();
    const needed = challenge.scope ?? '';
    const reason = `insufficient_scope: the server needs the scope "${needed}"; sign in again to grant it`;
    const isNew = needed !== '' && (await input.requireScopes(key, needed));
    if (!isNew || !credentials.tokens?.refresh_token || !replayable(init)) throw new McpAuthorizationRequired(reason);
    const wider = unionScopes(credentials.discovery?.scope, credentials.tokens.scope, needed);
    try {
      credentials = await input.refresh(key, credentials.version, wider);
    } catch (error) {
      if (error instanceof McpAuthorizationRequired) throw new McpAuthorizationRequired(reason);
      throw error;
    }
    response = await send(url, withBearer(init, tokenOf(credentials)));
    if (
      response.status === 403 &&
      parseBearerChallenge(response.headers.get('www-authenticate')).error === 'insufficient_scope'
    ) {
      await response.body?.cancel();
      throw new McpAuthorizationRequired(reason);
    }
    return response;
  };
}

function tokenOf(credentials: OpenedCredentials): string {
  const token = credentials.tokens?.access_token;
  if (!token) throw new McpAuthorizationRequired('The server is not signed in: sign in again');
  return token;
}

function expiresSoon(tokens: StoredTokens, clock: Clock, marginMs: number): boolean {
  if (!tokens.expires_at || !tokens.refresh_token) return false;
  return Date.parse(tokens.expires_at) - marginMs <= clock.now().getTime();
}

function withBearer(init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

/** A request whose body can be sent twice (the SDK's are JSON strings; a stream cannot). */
function replayable(init: RequestInit | undefined): boolean {
  const body = init?.body;
  return body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams;
}
