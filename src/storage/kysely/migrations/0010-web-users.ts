import type { Kysely } from 'kysely';

/**
 * The chat widget's visitors (issue 12): publishable widget keys, the anonymous users their
 * browsers become, and the identified widget users those can be linked to.
 *
 * - `widget_keys`: one per embedding of one agent. `key_id` is the public part of the
 *   publishable key (`pwk_<key_id>`…, looked up by it); the key is publishable by design, so only
 *   its SHA-256 is kept, like an API key's. `identity_secret` is the host site's HMAC secret for
 *   identity upgrades, sealed by the application (src/security/secret-box.ts) — it must be read
 *   back to verify a `user_hash`, so it cannot be a hash. `allowed_origins` is a JSON array of
 *   exact origins (`https://shop.example`). A revoked key (`revoked_at`) mints no new tokens.
 * - `anonymous_users`: one per browser session minted by a widget key; its id is the token's
 *   `sub` and the threads' `anon_user_id`. `widget_user_id` is set once the visitor is
 *   identified; `ip_address` is where it was first seen. `token_generation` goes up when a
 *   token is renewed: a token carries the generation it was minted at, so an older one replayed
 *   after renewal is refused.
 * - `widget_users`: the contract's WidgetUser. `external_user_id` is the host site's own user id
 *   (the `user_id` of an identify call), unique per organisation, so the same person identified
 *   on two devices is one widget user and their history follows them.
 * - `chat_threads` gains the web-thread columns of the contract's EnhancedWebThread
 *   (`widget_user_id`, `ticket_id`, `chat_history_parent_comment_id`, `connected_to_platform`)
 *   and an index for listing an agent's web threads newest first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('widget_keys')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text', (column) => column.notNull().unique())
    .addColumn('key_hash', 'text', (column) => column.notNull())
    .addColumn('identity_secret', 'text', (column) => column.notNull())
    .addColumn('allowed_origins', 'text', (column) => column.notNull())
    .addColumn('created_by_user_id', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createIndex('widget_keys_organization')
    .on('widget_keys')
    .columns(['organization_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('widget_users')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('external_user_id', 'text', (column) => column.notNull())
    .addColumn('user_name', 'text')
    .addColumn('user_email', 'text')
    .addColumn('verified_user_name', 'text')
    .addColumn('verified_user_email', 'text')
    .addColumn('ip_address', 'text')
    .addColumn('verified', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('identified_by_tool', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('widget_users_external')
    .on('widget_users')
    .columns(['organization_id', 'external_user_id'])
    .unique()
    .execute();

  await db.schema
    .createTable('anonymous_users')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('widget_key_id', 'text', (column) => column.notNull().references('widget_keys.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('widget_user_id', 'text', (column) => column.references('widget_users.id').onDelete('set null'))
    .addColumn('ip_address', 'text')
    .addColumn('token_generation', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('last_seen_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('anonymous_users_widget_user')
    .on('anonymous_users')
    .columns(['widget_user_id'])
    .execute();

  await db.schema.alterTable('chat_threads').addColumn('widget_user_id', 'text').execute();
  await db.schema.alterTable('chat_threads').addColumn('ticket_id', 'text').execute();
  await db.schema.alterTable('chat_threads').addColumn('chat_history_parent_comment_id', 'text').execute();
  await db.schema
    .alterTable('chat_threads')
    .addColumn('connected_to_platform', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('chat_threads_web')
    .on('chat_threads')
    .columns(['organization_id', 'agent_id', 'anon_user_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('chat_threads_widget_user').on('chat_threads').columns(['widget_user_id']).execute();
}
