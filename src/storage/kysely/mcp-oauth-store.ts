import type { Selectable } from 'kysely';
import type { McpOAuthCredentialsRow, McpOAuthStateRow } from './schema.js';
import type { Executor } from './executor.js';

/**
 * The OAuth state of MCP servers (migration 0008): one credentials row per server and its pending
 * authorizations. Values arrive sealed (src/mcp/oauth/sealed-credentials.ts): this store never sees
 * a plaintext token, secret or code verifier. Every statement names the organisation, and every
 * insert goes through the server's row in that organisation, so another organisation's server is
 * never written to.
 */
export interface McpServerKey {
  organizationId: string;
  serverId: string;
}

export interface StoredCredentials {
  organizationId: string;
  serverId: string;
  /** Sealed JSON. */
  clientInformation: string | null;
  /** Sealed JSON. */
  tokens: string | null;
  /** Plain JSON (nothing secret). */
  discovery: string | null;
  tokenVersion: number;
  refreshLeaseOwner: string | null;
  refreshLeaseUntil: string | null;
  updatedAt: string;
}

export interface PendingState {
  stateHash: string;
  organizationId: string;
  serverId: string;
  /** Sealed. */
  codeVerifier: string;
  redirectUri: string;
  scope: string | null;
  expectedIssuer: string | null;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

/** Why a state could not be consumed (the callback's error says which). */
export type StateRefusal = 'unknown' | 'expired' | 'used';

function credentialsOf(row: Selectable<McpOAuthCredentialsRow>): StoredCredentials {
  return {
    organizationId: row.organization_id,
    serverId: row.mcp_server_id,
    clientInformation: row.client_information,
    tokens: row.tokens,
    discovery: row.discovery,
    tokenVersion: Number(row.token_version),
    refreshLeaseOwner: row.refresh_lease_owner,
    refreshLeaseUntil: row.refresh_lease_until,
    updatedAt: row.updated_at,
  };
}

function stateOf(row: McpOAuthStateRow): PendingState {
  return {
    stateHash: row.state_hash,
    organizationId: row.organization_id,
    serverId: row.mcp_server_id,
    codeVerifier: row.code_verifier,
    redirectUri: row.redirect_uri,
    scope: row.scope,
    expectedIssuer: row.expected_issuer,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  };
}

export class McpOAuthReader {
  constructor(private readonly db: Executor) {}

  async credentials(key: McpServerKey): Promise<StoredCredentials | null> {
    const row = await this.db
      .selectFrom('mcp_oauth_credentials')
      .selectAll()
      .where('organization_id', '=', key.organizationId)
      .where('mcp_server_id', '=', key.serverId)
      .executeTakeFirst();
    return row ? credentialsOf(row) : null;
  }

  /** Why the state of this hash cannot be used (any hash that is not consumable). */
  async stateRefusal(stateHash: string, now: string): Promise<StateRefusal> {
    const row = await this.db
      .selectFrom('mcp_oauth_states')
      .select(['used_at', 'expires_at'])
      .where('state_hash', '=', stateHash)
      .executeTakeFirst();
    if (!row) return 'unknown';
    if (row.used_at !== null) return 'used';
    return row.expires_at <= now ? 'expired' : 'unknown';
  }
}

export class McpOAuthWriter {
  constructor(private readonly db: Executor) {}

  /**
   * Records the server's client and discovery, keeping its tokens: `INSERT … SELECT` from the
   * server's row in the organisation, so nothing is written for a server the organisation does
   * not have (false then).
   */
  async saveClient(
    input: McpServerKey & { clientInformation: string; discovery: string; now: string },
  ): Promise<boolean> {
    const result = await this.db
      .insertInto('mcp_oauth_credentials')
      .columns(['mcp_server_id', 'organization_id', 'client_information', 'discovery', 'updated_at'])
      .expression((eb) =>
        eb
          .selectFrom('mcp_servers')
          .select([
            'mcp_servers.id as mcp_server_id',
            'mcp_servers.organization_id',
            eb.val(input.clientInformation).as('client_information'),
            eb.val(input.discovery).as('discovery'),
            eb.val(input.now).as('updated_at'),
          ])
          .where('mcp_servers.id', '=', input.serverId)
          .where('mcp_servers.organization_id', '=', input.organizationId),
      )
      .onConflict((conflict) =>
        conflict
          .column('mcp_server_id')
          .doUpdateSet({
            client_information: input.clientInformation,
            discovery: input.discovery,
            updated_at: input.now,
          })
          .where('mcp_oauth_credentials.organization_id', '=', input.organizationId),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async saveDiscovery(input: McpServerKey & { discovery: string; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('mcp_oauth_credentials')
      .set({ discovery: input.discovery, updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('mcp_server_id', '=', input.serverId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Stores new tokens (after an authorization) and moves `token_version` on; any lease ends. */
  async saveTokens(input: McpServerKey & { tokens: string; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('mcp_oauth_credentials')
      .set((eb) => ({
        tokens: input.tokens,
        token_version: eb('token_version', '+', 1),
        refresh_lease_owner: null,
        refresh_lease_until: null,
        updated_at: input.now,
      }))
      .where('organization_id', '=', input.organizationId)
      .where('mcp_server_id', '=', input.serverId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Compare-and-set claim of the refresh: succeeds only while the tokens are still those of
   * `version` and no other process holds an unexpired lease. One statement, so of two processes
   * exactly one gets it, on either dialect.
   */
  async claimRefresh(
    input: McpServerKey & { owner: string; version: number; now: string; until: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('mcp_oauth_credentials')
      .set({ refresh_lease_owner: input.owner, refresh_lease_until: input.until })
      .where('organization_id', '=', input.organizationId)
      .where('mcp_server_id', '=', input.serverId)
      .where('token_version', '=', input.version)
      .where((eb) => eb.or([eb('refresh_lease_until', 'is', null), eb('refresh_lease_until', '<=', input.now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * The refreshed tokens of `version`, by the process that spent its refresh token; false when
   * the tokens moved on already. Not conditional on the lease: a holder whose lease ran out still
   * has the newest tokens of a rotation, and storing them beats losing them.
   */
  async completeRefresh(input: McpServerKey & { version: number; tokens: string; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('mcp_oauth_credentials')
      .set({
        tokens: input.tokens,
        token_version: input.version + 1,
        refresh_lease_owner: null,
        refresh_lease_until: null,
        updated_at: input.now,
      })
      .where('organization_id', '=', input.organizationId)
      .where('mcp_server_id', '=', input.serverId)
      .where('token_version', '=', input.version)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseRefresh(input: McpServerKey & { owner: string }): Promise<void> {
    await this.db
      .updateTable('mcp_oauth_credentials')
      .set({ refresh_lease_owner: null, refresh_lease_until: null })
      .where('organization_id', '=', input.organizationId)
      .where('mcp_server_id', '=', input.serverId)
      .where('refresh_lease_owner', '=', input.owner)
      .execute();
  }

  /** A pending authorization, only for a server of the organisation (false otherwise). */
  async insertState(state: Omit<PendingState, 'usedAt'>): Promise<boolean> {
    const result = await this.db
      .insertInto('mcp_oauth_states')
      .columns([
        'state_hash',
        'organization_id',
        'mcp_server_id',
        'code_verifier',
        'redirect_uri',
        'scope',
        'expected_issuer',
        'created_at',
        'expires_at',
      ])
      .expression((eb) =>
        eb
          .selectFrom('mcp_servers')
          .select([
            eb.val(state.stateHash).as('state_hash'),
            'mcp_servers.organization_id',
            'mcp_servers.id as mcp_server_id',
            eb.val(state.codeVerifier).as('code_verifier'),
            eb.val(state.redirectUri).as('redirect_uri'),
            eb.val(state.scope).as('scope'),
            eb.val(state.expectedIssuer).as('expected_issuer'),
            eb.val(state.createdAt).as('created_at'),
            eb.val(state.expiresAt).as('expires_at'),
          ])
          .where('mcp_servers.id', '=', state.serverId)
          .where('mcp_servers.organization_id', '=', state.organizationId),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /**
   * Marks the state used and returns it, in one statement: only an unused, unexpired state whose
   * server is still the organisation's, so a replay, a late callback or a tampered row gets null.
   */
  async consumeState(stateHash: string, now: string): Promise<PendingState | null> {
    const row = await this.db
      .updateTable('mcp_oauth_states')
      .set({ used_at: now })
      .where('state_hash', '=', stateHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('mcp_servers')
            .select('mcp_servers.id')
            .whereRef('mcp_servers.id', '=', 'mcp_oauth_states.mcp_server_id')
            .whereRef('mcp_servers.organization_id', '=', 'mcp_oauth_states.organization_id'),
        ),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? stateOf(row) : null;
  }

  /** Used and expired states of every server, older than `before`. */
  async deleteStatesBefore(before: string): Promise<number> {
    const result = await this.db.deleteFrom('mcp_oauth_states').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The server's credentials and pending authorizations. */
  async forget(key: McpServerKey): Promise<void> {
    await this.db
      .deleteFrom('mcp_oauth_states')
      .where('organization_id', '=', key.organizationId)
      .where('mcp_server_id', '=', key.serverId)
      .execute();
    await this.db
      .deleteFrom('mcp_oauth_credentials')
      .where('organization_id', '=', key.organizationId)
      .where('mcp_server_id', '=', key.serverId)
      .execute();
  }
}
