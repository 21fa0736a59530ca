import type { Kysely } from 'kysely';

/**
 * MCP servers registered for agents, and the OAuth state of those that need sign-in (issue 10).
 *
 * - `mcp_servers`: one row per registered server. `auth_config` is JSON text with its secret
 *   values sealed by the application (src/security/secret-box.ts), or null. `status` is the
 *   connection state the API shows (`registered` until the first connect); `status_reason` says
 *   why a server is not connected, in words a user can act on.
 * - `mcp_oauth_credentials`: at most one row per server. `client_information` (the registered or
 *   pre-registered client) and `tokens` are sealed JSON. `discovery` is plain JSON (metadata
 *   URLs and the issuer, nothing secret). `token_version` goes up on every token write, so a
 *   process that lost a refresh race can tell that the winner's token is newer than the one that
 *   failed. `refresh_lease_owner` / `refresh_lease_until` single-flight a refresh across
 *   processes: a compare-and-set claim, never a transaction held across the HTTP call.
 * - `mcp_oauth_states`: pending authorizations. The primary key is the SHA-256 of the `state`
 *   sent to the authorization server (the value itself is never stored), bound to one
 *   organisation and server, single use (`used_at`) and short lived (`expires_at`).
 * - `agent_tools.mcp_server_id` gets an index: a server's catalogue is read and replaced by it.
 *
 * Every table cascades from its organisation and server, so deleting a server (or an agent)
 * leaves no credentials behind.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mcp_servers')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('url', 'text', (column) => column.notNull())
    .addColumn('auth_config', 'text')
    .addColumn('health_check_url', 'text')
    .addColumn('tool_discovery_endpoint', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('last_health_check', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('mcp_servers_agent')
    .on('mcp_servers')
    .columns(['organization_id', 'agent_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createTable('mcp_oauth_credentials')
    .addColumn('mcp_server_id', 'text', (column) =>
      column.primaryKey().references('mcp_servers.id').onDelete('cascade'),
    )
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('client_information', 'text')
    .addColumn('tokens', 'text')
    .addColumn('discovery', 'text')
    .addColumn('token_version', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('refresh_lease_owner', 'text')
    .addColumn('refresh_lease_until', 'text')
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('mcp_oauth_states')
    .addColumn('state_hash', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('mcp_server_id', 'text', (column) => column.notNull().references('mcp_servers.id').onDelete('cascade'))
    .addColumn('code_verifier', 'text', (column) => column.notNull())
    .addColumn('redirect_uri', 'text', (column) => column.notNull())
    .addColumn('scope', 'text')
    .addColumn('expected_issuer', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema.createIndex('mcp_oauth_states_server').on('mcp_oauth_states').columns(['mcp_server_id']).execute();
  await db.schema.createIndex('agent_tools_mcp_server').on('agent_tools').columns(['mcp_server_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('agent_tools_mcp_server').execute();
  await db.schema.dropTable('mcp_oauth_states').execute();
  await db.schema.dropTable('mcp_oauth_credentials').execute();
  await db.schema.dropTable('mcp_servers').execute();
}
