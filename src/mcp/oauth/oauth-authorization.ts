import { randomUUID } from 'node:crypto';
import { startAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../ids.js';
import { SecretBoxError, type SecretBox } from '../../security/secret-box.js';
import type { McpServerKey } from '../../storage/kysely/mcp-oauth-store.js';
import type { Store } from '../../storage/store.js';
import { McpAuthorizationRequired, type McpAuthorization, type McpServerRef } from '../mcp-authorization.js';
import { OAuthCallback, type CallbackQuery, type McpServerAuthorized } from './oauth-callback.js';
import { chooseClient } from './client-registration.js';
import { discover } from './discovery.js';
import { hashState, newStateValue } from './oauth-state.js';
import { openCredentials, sealJson, unionScopes, type Discovery, type OpenedCredentials } from './oauth-records.js';
import { oauthUrls, type OAuthUrls } from './oauth-urls.js';
import { revokeTokens } from './revocation.js';
import { authorizedFetch } from './authorized-fetch.js';
import { DEFAULT_REFRESH_TIMING, TokenRefresher, type RefreshTiming } from './token-refresher.js';
import { parseBearerChallenge } from './www-authenticate.js';

export interface OAuthAuthorizationOptions {
  store: Store;
  box: SecretBox;
  clock: Clock;
  /** PUBLIC_URL: where the authorization server sends the browser back, and where Parley's client metadata is. */
  publicUrl: string;
  /** Where Parley's client metadata document is published, when not under `publicUrl`. */
  clientMetadataUrl?: string | undefined;
  /**
   * The guarded outbound fetch for the OAuth layer's own requests (metadata, registration, token,
   * revocation), never a raw one: every URL here comes from a server's answers (docs/security.md).
   */
  guardedFetch: FetchLike;
  /** How long a sign-in link stays valid (MCP_OAUTH_STATE_TTL_SECONDS). */
  stateTtlMs: number;
  /** An access token this close to its expiry is refreshed before it is used. */
  refreshMarginMs?: number;
  refreshTiming?: RefreshTiming;
  /** Called after a callback stored tokens (the MCP servers service reconnects and syncs tools). */
  onAuthorized?: McpServerAuthorized;
  log?: FastifyBaseLogger;
}

export const DEFAULT_REFRESH_MARGIN_MS = 60_000;

/** How long after its expiry a sign-in state is kept (then any new sign-in deletes it). */
const SWEEP_STATES_AFTER_MS = 24 * 60 * 60 * 1000;
/**
 * OAuth 2.1 for MCP servers (docs/mcp-oauth.md, docs/adr/0018-mcp-oauth.md), behind the one seam
 * the MCP connection code uses (McpAuthorization). The SDK's auth helpers do the protocol steps;
 * this class decides the order, keeps the state sealed in the database and makes refresh
 * single-flight across processes.
 */
export class OAuthAuthorization implements McpAuthorization {
  readonly callback: OAuthCallback;
  readonly urls: OAuthUrls;
  readonly #refresher: TokenRefresher;

  constructor(private readonly options: OAuthAuthorizationOptions) {
    this.urls = oauthUrls(options.publicUrl, options.clientMetadataUrl);
    this.#refresher = new TokenRefresher({
      store: options.store,
      box: options.box,
      clock: options.clock,
      send: options.guardedFetch,
      owner: randomUUID(),
      timing: options.refreshTiming ?? DEFAULT_REFRESH_TIMING,
    });
    this.callback = new OAuthCallback({
      store: options.store,
      box: options.box,
      clock: options.clock,
      send: options.guardedFetch,
      onAuthorized: options.onAuthorized ?? (async () => {}),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  fetchFor(server: McpServerRef, send: FetchLike): FetchLike {
    return authorizedFetch({
      key: keyOf(server),
      send,
      read: (key) => this.#readForUse(key),
      refresh: (key, version, scope) => this.#refresher.refresh(key, version, scope ? { scope } : {}),
      requireScopes: (key, scope) => this.#requireScopes(key, scope),
      clock: this.options.clock,
      marginMs: this.options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
    });
  }

  async begin(
    server: McpServerRef,
    challenge: { wwwAuthenticate: string | null },
  ): Promise<{ authorizationUrl: string }> {
    const { store, box, clock, guardedFetch: send } = this.options;
    const key = keyOf(server);
    const bearer = parseBearerChallenge(challenge.wwwAuthenticate);
    const found = await discover({ serverUrl: server.url, challenge: bearer, send });
    // What cannot be opened (sealed under a key this server no longer has) is signed in afresh.
    const existing = await this.#read(key).catch((error: unknown) => {
      if (error instanceof SecretBoxError) return null;
      throw error;
    });
    const requiredScopes = existing?.discovery?.requiredScopes ?? [];
    const scope = requestedScope(found, bearer.scope, requiredScopes);
    const client = await chooseClient({
      authConfig: server.authConfig,
      discovery: found,
      stored: existing?.client ?? null,
      urls: this.urls,
      scope,
      send,
    });
    const state = newStateValue();
    const { authorizationUrl, codeVerifier } = await startAuthorization(found.authorizationServerUrl, {
      metadata: found.metadata,
      clientInformation: { client_id: client.client_id },
      redirectUrl: this.urls.redirectUri,
      ...(scope ? { scope } : {}),
      state,
      resource: found.resource,
    });
    const discovery: Discovery = { ...found, ...(scope ? { scope } : {}), requiredScopes };
    const now = clock.now();
    const saved = await store.write(async (writers) => {
      const kept = await writers.mcpOAuth.saveClient({
        ...key,
        clientInformation: sealJson(box, client),
        discovery: JSON.stringify(discovery),
        now: now.toISOString(),
      });
      if (!kept) return false;
      // Housekeeping in the same write: states that expired a day ago go (until then a late
      // click is told its link expired rather than unknown).
      await writers.mcpOAuth.deleteStatesBefore(new Date(now.getTime() - SWEEP_STATES_AFTER_MS).toISOString());
      return writers.mcpOAuth.insertState({
        stateHash: hashState(state),
        ...key,
        codeVerifier: box.seal(codeVerifier),
        redirectUri: this.urls.redirectUri,
        scope: scope ?? null,
        expectedIssuer: found.issuer,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.options.stateTtlMs).toISOString(),
      });
    });
    if (!saved) throw new Error(`MCP server ${server.serverId} does not exist in this organization`);
    return { authorizationUrl: authorizationUrl.href };
  }

  async revoke(server: McpServerRef): Promise<void> {
    const { store, guardedFetch: send, log } = this.options;
    const key = keyOf(server);
    let current: OpenedCredentials | null = null;
    try {
      current = await this.#read(key);
    } catch (error) {
      // Sealed with a key this server no longer has: nothing to revoke with, still forgotten.
      log?.warn({ err: error, serverId: server.serverId }, 'stored MCP OAuth credentials could not be opened');
    }
    if (current?.client && current.tokens && current.discovery) {
      await revokeTokens({ client: current.client, tokens: current.tokens, discovery: current.discovery, send, log });
    }
    await store.write((writers) => writers.mcpOAuth.forget(key));
  }

  /** The credentials a request uses; ones this server cannot open need a new sign-in. */
  async #readForUse(key: McpServerKey): Promise<OpenedCredentials | null> {
    try {
      return await this.#read(key);
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      throw new McpAuthorizationRequired(
        'The stored sign-in was sealed with a key this server does not have (PARLEY_SECRET_KEYS): sign in again',
      );
    }
  }

  async #read(key: McpServerKey): Promise<OpenedCredentials | null> {
    const row = await this.options.store.mcpOAuth.credentials(key);
    return row ? openCredentials(this.options.box, row) : null;
  }

  /** Records scopes a 403 asked for; true when one of them was not recorded before. */
  async #requireScopes(key: McpServerKey, scope: string): Promise<boolean> {
    const current = await this.#read(key);
    if (!current?.discovery) return false;
    const before = current.discovery.requiredScopes ?? [];
    const after = unionScopes(before, scope)?.split(' ') ?? [];
    if (after.length === before.length) return false;
    const discovery = JSON.stringify({ ...current.discovery, requiredScopes: after });
    const now = this.options.clock.now().toISOString();
    await this.options.store.write((writers) => writers.mcpOAuth.saveDiscovery({ ...key, discovery, now }));
    return true;
  }

  /** The outcome of the browser's return to the callback route (see OAuthCallback). */
  complete(query: CallbackQuery): ReturnType<OAuthCallback['complete']> {
    return this.callback.complete(query);
  }
}

/**
 * The scope asked for (MCP spec, "Scope selection strategy"): the challenge's `scope`, else the
 * resource's `scopes_supported`, else none; with the scopes a 403 asked for since, and
 * `offline_access` when the authorization server lists it (a refresh token is what keeps the
 * server connected; SEP-2207).
 */
function requestedScope(
  found: Discovery,
  challenged: string | undefined,
  required: readonly string[],
): string | undefined {
  const base = challenged ?? found.resourceMetadata?.scopes_supported;
  const offline = found.metadata.scopes_supported?.includes('offline_access') ? 'offline_access' : undefined;
  return unionScopes(base, required, offline);
}

function keyOf(server: McpServerRef): McpServerKey {
  return { organizationId: server.organizationId, serverId: server.serverId };
}
