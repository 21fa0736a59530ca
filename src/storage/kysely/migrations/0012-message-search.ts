import { SqliteAdapter, sql, type Kysely } from 'kysely';

/**
 * Full-text search over chat messages (issue 12, docs/search.md). Like the chunk index of
 * migration 0009, the index is the one dialect difference:
 *
 * - SQLite: an FTS5 table with external content (the text is not stored twice), kept in step by
 *   triggers on insert, on an update of `content` and on delete (a thread delete and
 *   clear-all-chats delete messages by foreign-key cascade, which fires the delete trigger).
 *   FTS5 needs an integer key that never changes. `chat_messages` has a text primary key, so its
 *   rowid is implicit and VACUUM may renumber it; `search_seq` is that key instead, given by the
 *   insert trigger (one more than the largest, found through its unique index). The index reads
 *   its columns from the view `chat_messages_search_source`: `scope` (`o` + the organisation id
 *   without dashes, ranked 0) narrows a search to one organisation inside the index, as 0009's
 *   agent token does; `content` is the text, Porter-stemmed over unicode61 (diacritics folded).
 *   The scope is made from the message's own row, never a join, so the delete trigger can replay
 *   exactly what was indexed even while a cascade is removing the thread.
 * - PostgreSQL: a generated `tsvector` column (the `english` configuration) with a GIN index.
 *
 * Both lists that take cursors are already indexed in their order: threads by
 * `chat_threads_agent_created` (agent_id, created_at, id), messages by
 * `chat_messages_thread_created` (thread_id, created_at, id, organization_id), both of 0001.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) await createSqliteFullText(db);
  else await createPostgresFullText(db);
}

async function createSqliteFullText(db: Kysely<unknown>): Promise<void> {
  await sql`alter table chat_messages add column search_seq integer`.execute(db);
  await sql`update chat_messages set search_seq = rowid`.execute(db);
  await sql`create unique index chat_messages_search_seq on chat_messages (search_seq)`.execute(db);
  await sql`create view chat_messages_search_source as
    select search_seq, 'o' || replace(organization_id, '-', '') as scope, content from chat_messages`.execute(db);
  await sql`create virtual table chat_messages_fts using fts5(
    scope, content,
    content = 'chat_messages_search_source', content_rowid = 'search_seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
  )`.execute(db);
  await sql`insert into chat_messages_fts (chat_messages_fts) values ('rebuild')`.execute(db);
  // Setting search_seq updates no `content`, so it does not fire the update trigger.
  await sql`create trigger chat_messages_fts_insert after insert on chat_messages begin
    update chat_messages set search_seq = (select coalesce(max(search_seq), 0) + 1 from chat_messages)
      where rowid = new.rowid;
    insert into chat_messages_fts (rowid, scope, content)
      select search_seq, 'o' || replace(new.organization_id, '-', ''), new.content
      from chat_messages where rowid = new.rowid;
  end`.execute(db);
  await sql`create trigger chat_messages_fts_update after update of content on chat_messages begin
    insert into chat_messages_fts (chat_messages_fts, rowid, scope, content)
      values ('delete', old.search_seq, 'o' || replace(old.organization_id, '-', ''), old.content);
    insert into chat_messages_fts (rowid, scope, content)
      values (new.search_seq, 'o' || replace(new.organization_id, '-', ''), new.content);
  end`.execute(db);
  await sql`create trigger chat_messages_fts_delete after delete on chat_messages begin
    insert into chat_messages_fts (chat_messages_fts, rowid, scope, content)
      values ('delete', old.search_seq, 'o' || replace(old.organization_id, '-', ''), old.content);
  end`.execute(db);
}

async function createPostgresFullText(db: Kysely<unknown>): Promise<void> {
  await sql`alter table chat_messages add column search_vector tsvector
    generated always as (to_tsvector('english', content)) stored`.execute(db);
  await sql`create index chat_messages_search on chat_messages using gin (search_vector)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    await sql`drop trigger chat_messages_fts_delete`.execute(db);
    await sql`drop trigger chat_messages_fts_update`.execute(db);
    await sql`drop trigger chat_messages_fts_insert`.execute(db);
    await sql`drop table chat_messages_fts`.execute(db);
    await sql`drop view chat_messages_search_source`.execute(db);
    await sql`drop index chat_messages_search_seq`.execute(db);
    await sql`alter table chat_messages drop column search_seq`.execute(db);
  } else {
    await sql`drop index chat_messages_search`.execute(db);
    await sql`alter table chat_messages drop column search_vector`.execute(db);
  }
}
