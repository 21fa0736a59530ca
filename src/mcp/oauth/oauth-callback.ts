import { exchangeAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '../../errors.js';
import type { Clock } from '../../ids.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { McpServerKey, PendingState } from '../../storage/kysely/mcp-oauth-store.js';
import type { Store } from '../../storage/store.js';
import { clientAuthentication } from './client-authentication.js';
import { describeOAuthError, describeOAuthFailure, isAuthorizationFailure } from './oauth-failures.js';
import { openCredentials, sealJson, type OpenedCredentials } from './oauth-records.js';
import { hashState } from './oauth-state.js';
import { storedTokens } from './token-refresher.js';

/** What the authorization server appends to the redirect URI (RFC 6749 §4.1.2, RFC 9207). */
export interface CallbackQuery {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  iss?: string | undefined;
}

export type McpServerAuthorized = (server: McpServerKey) => Promise<void>;

const STATE_REFUSALS = {
  unknown: 'This sign-in link is not known (or not for this server): start the connection again.',
  expired: 'This sign-in link has expired: start the connection again.',
  used: 'This sign-in link was already used: start the connection again.',
} as const;

/**
 * The browser's return from the authorization server. In this order: the `state` is consumed
 * (single use, unexpired, its server still the organisation's — one statement); the `iss` is
 * checked against the issuer the state was made for (RFC 9207: required when the server's
 * metadata says it sends one, compared whenever present); an `error` is the user's or the
 * server's refusal; the code is exchanged at the token endpoint with the client's auth method,
 * the PKCE verifier and the `resource`; the tokens are stored sealed and `onAuthorized` is told.
 * Every refusal is an AppError the route shows; the reason is also kept as the server's last error.
 */
export class OAuthCallback {
  constructor(
    private readonly deps: {
      store: Store;
      box: SecretBox;
      clock: Clock;
      send: FetchLike;
      onAuthorized: McpServerAuthorized;
      log?: FastifyBaseLogger;
    },
  ) {}

  async complete(query: CallbackQuery): Promise<McpServerKey> {
    const { store, box, clock } = this.deps;
    const state = await this.#consume(query.state);
    const key = { organizationId: state.organizationId, serverId: state.serverId };
    const row = await store.mcpOAuth.credentials(key);
    const current = row ? openCredentials(box, row) : null;
    if (!current?.client || !current.discovery) {
      throw new AppError('mcp_oauth_failed', {
        message: 'The server’s sign-in was reset meanwhile: start the connection again.',
      });
    }
    const issuerProblem = checkIssuer(query.iss, state, current);
    if (issuerProblem) await this.#refuse(key, current, issuerProblem);
    if (query.error !== undefined) {
      await this.#refuse(
        key,
        current,
        `The authorization server did not grant access (${describeOAuthError(query.error, query.error_description)})`,
      );
    }
    if (!query.code) await this.#refuse(key, current, 'The authorization server sent no authorization code');
    const tokens = await this.#exchange(key, current, state, query.code!);
    const discovery = JSON.stringify({ ...current.discovery, lastError: undefined });
    const now = clock.now();
    await store.write(async (writers) => {
      await writers.mcpOAuth.saveTokens({
        ...key,
        tokens: sealJson(box, storedTokens(tokens, now)),
        now: now.toISOString(),
      });
      await writers.mcpOAuth.saveDiscovery({ ...key, discovery, now: now.toISOString() });
    });
    try {
      await this.deps.onAuthorized(key);
    } catch (error) {
      // Signed in all the same: the connection is retried on the next connect or health check.
      this.deps.log?.warn({ err: error, serverId: key.serverId }, 'reconnecting an MCP server after sign-in failed');
    }
    return key;
  }

  async #consume(state: string | undefined): Promise<PendingState> {
    if (!state)
      throw new AppError('mcp_oauth_state_invalid', {
        message: 'The sign-in response has no state: start the connection again.',
      });
    const hash = hashState(state);
    const now = this.deps.clock.now().toISOString();
    const consumed = await this.deps.store.write((writers) => writers.mcpOAuth.consumeState(hash, now));
    if (consumed) return consumed;
    const refusal = await this.deps.store.mcpOAuth.stateRefusal(hash, now);
    throw new AppError('mcp_oauth_state_invalid', { message: STATE_REFUSALS[refusal] });
  }

  async #exchange(
    key: McpServerKey,
    current: OpenedCredentials,
    state: PendingState,
    code: string,
  ): Promise<OAuthTokens> {
    const client = current.client!;
    const discovery = current.discovery!;
    try {
      return await exchangeAuthorization(discovery.authorizationServerUrl, {
        metadata: discovery.metadata,
        clientInformation: { client_id: client.client_id },
        authorizationCode: code,
        codeVerifier: this.deps.box.open(state.codeVerifier),
        redirectUri: state.redirectUri,
        resource: discovery.resource,
        addClientAuthentication: clientAuthentication(client, discovery.metadata),
        fetchFn: this.deps.send,
      });
    } catch (error) {
      if (isAuthorizationFailure(error)) {
        return this.#refuse(key, current, `The authorization server refused the code (${describeOAuthFailure(error)})`);
      }
      this.deps.log?.warn(
        { err: error instanceof Error ? error.message : String(error), serverId: key.serverId },
        'MCP OAuth token exchange failed',
      );
      throw new AppError('mcp_oauth_unavailable');
    }
  }

  /** Keeps `reason` as the server's last sign-in error and refuses the callback with it. */
  async #refuse(key: McpServerKey, current: OpenedCredentials, reason: string): Promise<never> {
    const discovery = JSON.stringify({ ...current.discovery, lastError: reason });
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.write((writers) => writers.mcpOAuth.saveDiscovery({ ...key, discovery, now }));
    throw new AppError('mcp_oauth_failed', { message: `${reason}.` });
  }
}

function checkIssuer(iss: string | undefined, state: PendingState, current: OpenedCredentials): string | null {
  const expected = state.expectedIssuer;
  if (iss === undefined) {
    return current.discovery?.metadata.authorization_response_iss_parameter_supported === true
      ? 'The authorization server’s response has no iss, which its metadata says it sends (RFC 9207)'
      : null;
  }
  // RFC 9207 §2.4: a simple string comparison, no normalisation.
  return iss === expected ? null : `The response names another issuer than the one signed in to (RFC 9207)`;
}
