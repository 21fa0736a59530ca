import { setTimeout as sleep } from 'node:timers/promises';
import { refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Clock } from '../../ids.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { McpServerKey } from '../../storage/kysely/mcp-oauth-store.js';
import type { Store } from '../../storage/store.js';
import { McpAuthorizationRequired } from '../mcp-authorization.js';
import { clientAuthentication } from './client-authentication.js';
import { describeOAuthFailure, isAuthorizationFailure } from './oauth-failures.js';
import { openCredentials, sealJson, type OpenedCredentials, type StoredTokens } from './oauth-records.js';

export interface RefreshTiming {
  /** How long a claimed refresh is the claimant's alone; longer than a token request can take. */
  leaseMs: number;
  /** How long a process waits for another's refresh before giving up on this request. */
  waitMs: number;
  /** How often a waiting process re-reads the row. */
  pollMs: number;
}

export const DEFAULT_REFRESH_TIMING: RefreshTiming = Object.freeze({ leaseMs: 30_000, waitMs: 20_000, pollMs: 50 });

/**
 * Refreshes a server's tokens so that a rotating refresh token is spent once, however many
 * requests and processes need a new access token at the same moment (docs/mcp-oauth.md):
 *
 * - in this process, one promise per server: concurrent callers share it;
 * - across processes, a compare-and-set lease on the credentials row. A refresh is for the tokens
 *   of one `token_version`: the process whose claim sets `refresh_lease_owner` (only while the
 *   version is unchanged and no unexpired lease exists) spends the refresh token, outside any
 *   transaction, and writes the new tokens with `token_version + 1`. Every other process polls
 *   the row until the version moves on and uses the winner's tokens.
 *
 * A refused refresh (invalid_grant, a revoked grant, a wider scope than granted) is
 * McpAuthorizationRequired with the reason; the credentials stay stored. A failure that is not the
 * authorization server's answer (unreachable, 5xx) is thrown as it is: trying later may work.
 */
export class TokenRefresher {
  readonly #inFlight = new Map<string, Promise<OpenedCredentials>>();

  constructor(
    private readonly deps: {
      store: Store;
      box: SecretBox;
      clock: Clock;
      send: FetchLike;
      /** This process's lease owner id. */
      owner: string;
      timing: RefreshTiming;
    },
  ) {}

  /** Tokens newer than those of `usedVersion`: someone else's if they moved on, else refreshed here. */
  refresh(key: McpServerKey, usedVersion: number, options: { scope?: string } = {}): Promise<OpenedCredentials> {
    const id = `${key.organizationId}/${key.serverId}`;
    const pending = this.#inFlight.get(id);
    if (pending) return pending;
    const started = this.#refresh(key, usedVersion, options).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, started);
    return started;
  }

  async #refresh(key: McpServerKey, usedVersion: number, options: { scope?: string }): Promise<OpenedCredentials> {
    const { store, clock, timing, owner } = this.deps;
    const deadline = performance.now() + timing.waitMs;
    for (;;) {
      const current = await this.#read(key);
      if (current.version !== usedVersion) return current;
      if (!current.tokens?.refresh_token) {
        throw new McpAuthorizationRequired(
          'The access token is no longer accepted and the authorization server gave no refresh token: sign in again',
        );
      }
      const now = clock.now();
      const claimed = await store.write((writers) =>
        writers.mcpOAuth.claimRefresh({
          ...key,
          owner,
          version: usedVersion,
          now: now.toISOString(),
          until: new Date(now.getTime() + timing.leaseMs).toISOString(),
        }),
      );
      if (claimed) return this.#spend(key, current, options);
      if (performance.now() >= deadline) {
        throw new Error('Another process is refreshing this server’s tokens and did not finish in time');
      }
      await sleep(timing.pollMs);
    }
  }

  /** Spends the refresh token (this process holds the lease) and stores what comes back. */
  async #spend(key: McpServerKey, current: OpenedCredentials, options: { scope?: string }): Promise<OpenedCredentials> {
    const { store, box, clock, owner } = this.deps;
    const { client, discovery, tokens } = current;
    if (!client || !discovery || !tokens?.refresh_token) {
      await store.write((writers) => writers.mcpOAuth.releaseRefresh({ ...key, owner }));
      throw new McpAuthorizationRequired('The server’s sign-in is incomplete: sign in again');
    }
    let fresh: OAuthTokens;
    try {
      fresh = await refreshAuthorization(discovery.authorizationServerUrl, {
        metadata: discovery.metadata,
        clientInformation: { client_id: client.client_id },
        refreshToken: tokens.refresh_token,
        resource: discovery.resource,
        addClientAuthentication: clientAuthentication(
          client,
          discovery.metadata,
          options.scope ? { scope: options.scope } : {},
        ),
        fetchFn: this.deps.send,
      });
    } catch (error) {
      await store.write((writers) => writers.mcpOAuth.releaseRefresh({ ...key, owner }));
      if (!isAuthorizationFailure(error)) throw error;
      // A process whose lease had run out may have refreshed meanwhile: its tokens are good.
      const latest = await this.#read(key);
      if (latest.version !== current.version) return latest;
      const reason = `The authorization server refused to refresh the token (${describeOAuthFailure(error)}): sign in again`;
      await this.#recordFailure(key, latest, reason);
      throw new McpAuthorizationRequired(reason);
    }
    const stored = storedTokens(fresh, clock.now(), tokens);
    const now = clock.now().toISOString();
    const written = await store.write((writers) =>
      writers.mcpOAuth.completeRefresh({ ...key, version: current.version, tokens: sealJson(box, stored), now }),
    );
    // False only when another process stored tokens first (our lease had run out); ours are
    // still valid for this request.
    if (!written) return { ...current, tokens: stored };
    return { ...current, version: current.version + 1, tokens: stored };
  }

  async #read(key: McpServerKey): Promise<OpenedCredentials> {
    const row = await this.deps.store.mcpOAuth.credentials(key);
    if (!row) throw new McpAuthorizationRequired('The server is not signed in: sign in again');
    return openCredentials(this.deps.box, row);
  }

  async #recordFailure(key: McpServerKey, current: OpenedCredentials, reason: string): Promise<void> {
    if (!current.discovery) return;
    const discovery = JSON.stringify({ ...current.discovery, lastError: reason });
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.write((writers) => writers.mcpOAuth.saveDiscovery({ ...key, discovery, now }));
  }
}

/** The tokens to store: `expires_in` made an absolute time; a refresh token kept when none came back. */
export function storedTokens(tokens: OAuthTokens, now: Date, previous?: StoredTokens | null): StoredTokens {
  const refreshToken = tokens.refresh_token ?? previous?.refresh_token;
  return {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    ...(tokens.scope ? { scope: tokens.scope } : previous?.scope ? { scope: previous.scope } : {}),
    ...(tokens.expires_in !== undefined
      ? { expires_at: new Date(now.getTime() + tokens.expires_in * 1000).toISOString() }
      : {}),
  };
}
