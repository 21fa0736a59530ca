import type { Kysely } from 'kysely';

/**
 * Only types both dialects share: text, integer, foreign keys with cascades. Ids and timestamps
 * are made in application code. Deleting an agent removes its threads; deleting a thread removes
 * its messages, tool calls and feedback.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull().unique())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addUniqueConstraint('users_organization_name_unique', ['organization_id', 'name'])
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'text', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('key_hash', 'text', (column) => column.notNull())
    .addColumn('last_four', 'text', (column) => column.notNull())
    .addColumn('scopes', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('api_keys_organization').on('api_keys').columns(['organization_id', 'id']).execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('template_id', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    .addColumn('avatar_url', 'text')
    .addColumn('configuration', 'text', (column) => column.notNull())
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('team_id', 'text')
    .addColumn('bot_sub', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('agents_organization_created')
    .on('agents')
    .columns(['organization_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('chat_threads')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('user_id', 'text')
    .addColumn('anon_user_id', 'text')
    .addColumn('title', 'text')
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  // One index serves the thread list (agent, newest first) and the agent foreign key's cascade.
  // Agent ids are unique across organisations, so the organisation filter needs no column here.
  await db.schema
    .createIndex('chat_threads_agent_created')
    .on('chat_threads')
    .columns(['agent_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('chat_messages')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('thread_id', 'text', (column) => column.notNull().references('chat_threads.id').onDelete('cascade'))
    .addColumn('role', 'text', (column) => column.notNull())
    .addColumn('content', 'text', (column) => column.notNull())
    .addColumn('content_html', 'text')
    .addColumn('attachments', 'text', (column) => column.notNull())
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();
  // organization_id last: the tenant filter is checked in the index, so rows skipped by an OFFSET
  // are never read from the table.
  await db.schema
    .createIndex('chat_messages_thread_created')
    .on('chat_messages')
    .columns(['thread_id', 'created_at', 'id', 'organization_id'])
    .execute();

  await db.schema
    .createTable('tool_calls')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('thread_id', 'text', (column) => column.notNull().references('chat_threads.id').onDelete('cascade'))
    .addColumn('message_id', 'text', (column) => column.notNull().references('chat_messages.id').onDelete('cascade'))
    .addColumn('position', 'integer', (column) => column.notNull())
    .addColumn('tool_name', 'text', (column) => column.notNull())
    .addColumn('arguments', 'text', (column) => column.notNull())
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('start_time', 'text', (column) => column.notNull())
    .addColumn('end_time', 'text')
    .execute();
  await db.schema.createIndex('tool_calls_message').on('tool_calls').columns(['message_id', 'position']).execute();
  await db.schema.createIndex('tool_calls_thread').on('tool_calls').column('thread_id').execute();

  await db.schema
    .createTable('message_feedback')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('thread_id', 'text', (column) => column.notNull().references('chat_threads.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('human_message_id', 'text', (column) => column.references('chat_messages.id').onDelete('cascade'))
    .addColumn('ai_message_id', 'text', (column) => column.references('chat_messages.id').onDelete('cascade'))
    .addColumn('flow_execution_id', 'text')
    .addColumn('feedback_type', 'text')
    .addColumn('issue_type', 'text')
    .addColumn('comment', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('message_feedback_ai_message').on('message_feedback').column('ai_message_id').execute();
  await db.schema
    .createIndex('message_feedback_human_message')
    .on('message_feedback')
    .column('human_message_id')
    .execute();
  await db.schema.createIndex('message_feedback_thread').on('message_feedback').column('thread_id').execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('key', 'text', (column) => column.notNull())
    .addColumn('fingerprint', 'text', (column) => column.notNull())
    .addColumn('status_code', 'integer', (column) => column.notNull())
    .addColumn('response_body', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['organization_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_expires').on('idempotency_keys').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'idempotency_keys',
    'message_feedback',
    'tool_calls',
    'chat_messages',
    'chat_threads',
    'agents',
    'api_keys',
    'users',
    'organizations',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
