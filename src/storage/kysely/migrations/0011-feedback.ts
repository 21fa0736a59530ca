import { sql, type Kysely } from 'kysely';

/**
 * Feedback through the API (issue 12, docs/feedback.md).
 *
 * - `message_feedback` (migration 0001) gains who gave it and what the request said:
 *   `anon_user_id` is set for a chat-widget visitor (whose anonymous id is then also the row's
 *   `user_id`: that column holds the author, user or visitor, and is what "the same author"
 *   means); `source` and `context_id` are the request's own fields, kept for the list and the
 *   export. One author has at most one rating per answer: a unique index on
 *   (`ai_message_id`, `user_id`) lets a new rating replace the old one in one statement
 *   (`INSERT … ON CONFLICT DO UPDATE`). Rows stored before this migration with the same pair
 *   are folded into the newest first. Rows that name only a question (`ai_message_id` null)
 *   are unaffected: NULLs never conflict, on either dialect.
 * - `message_feedback_organization_created`: the list and the export read an organisation's
 *   feedback newest first in keyset pages on (`created_at`, `id`), so a deep page costs what
 *   the first does.
 * - `flow_feedback`: ratings of a run (a flow execution), one per author and run, removed with
 *   the run.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('message_feedback').addColumn('anon_user_id', 'text').execute();
  await db.schema.alterTable('message_feedback').addColumn('source', 'text').execute();
  await db.schema.alterTable('message_feedback').addColumn('context_id', 'text').execute();
  await sql`
    delete from message_feedback
    where ai_message_id is not null
      and exists (
        select 1 from message_feedback newer
        where newer.ai_message_id = message_feedback.ai_message_id
          and newer.user_id = message_feedback.user_id
          and (newer.updated_at > message_feedback.updated_at
            or (newer.updated_at = message_feedback.updated_at and newer.id > message_feedback.id))
      )
  `.execute(db);
  await db.schema
    .createIndex('message_feedback_answer_author')
    .on('message_feedback')
    .columns(['ai_message_id', 'user_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('message_feedback_organization_created')
    .on('message_feedback')
    .columns(['organization_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('flow_feedback')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) => column.notNull())
    .addColumn('flow_execution_id', 'text', (column) =>
      column.notNull().references('flow_executions.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('anon_user_id', 'text')
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('context_id', 'text')
    .addColumn('feedback_type', 'text')
    .addColumn('issue_type', 'text')
    .addColumn('comment', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('flow_feedback_execution_author')
    .on('flow_feedback')
    .columns(['flow_execution_id', 'user_id'])
    .unique()
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('flow_feedback').execute();
  await db.schema.dropIndex('message_feedback_organization_created').execute();
  await db.schema.dropIndex('message_feedback_answer_author').execute();
  await db.schema.alterTable('message_feedback').dropColumn('context_id').execute();
  await db.schema.alterTable('message_feedback').dropColumn('source').execute();
  await db.schema.alterTable('message_feedback').dropColumn('anon_user_id').execute();
}
