import { SqliteAdapter, sql, type Kysely } from 'kysely';

/**
 * The chunk index gets the chunk's own section heading — the last of its heading path — as a
 * field of its own (docs/knowledge-search.md, "Ranking"), ranked beside the page title and whole
 * heading path: a document's outer headings are in every one of its chunks and tell its sections
 * apart not at all, while the section heading ("Changing a password") names what the passage is
 * about. Existing chunks are re-indexed from their rows; nothing else changes.
 *
 * - SQLite: the FTS5 table is rebuilt with a `heading` column (scope, title, heading, body) from
 *   `file_chunks`, and its insert trigger fills it with `json_extract(heading_path, '$[#-1]')`.
 * - PostgreSQL: `search_vector` gains the section heading at weight C (the title and heading path
 *   stay B, the text A); the generated column and its GIN index are made anew.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) await rebuildSqlite(db, { heading: true });
  else await rebuildPostgres(db, { heading: true });
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) await rebuildSqlite(db, { heading: false });
  else await rebuildPostgres(db, { heading: false });
}

const SCOPE = sql`'a' || replace(agent_id, '-', '')`;
const TITLE = sql`coalesce(title, '') || ' ' || heading_path`;
const HEADING = sql`coalesce(json_extract(heading_path, '$[#-1]'), '')`;

async function rebuildSqlite(db: Kysely<unknown>, options: { heading: boolean }): Promise<void> {
  await sql`drop trigger file_chunks_fts_insert`.execute(db);
  await sql`drop table file_chunks_fts`.execute(db);
  const columns = options.heading ? sql`scope, title, heading, body` : sql`scope, title, body`;
  await sql`create virtual table file_chunks_fts using fts5(
    ${columns},
    tokenize = 'porter unicode61 remove_diacritics 2'
  )`.execute(db);
  const values = options.heading ? sql`${SCOPE}, ${TITLE}, ${HEADING}, text` : sql`${SCOPE}, ${TITLE}, text`;
  await sql`insert into file_chunks_fts (rowid, ${columns}) select seq, ${values} from file_chunks`.execute(db);
  // The same values, of the inserted row.
  const newValues = options.heading
    ? sql`'a' || replace(new.agent_id, '-', ''), coalesce(new.title, '') || ' ' || new.heading_path,
        coalesce(json_extract(new.heading_path, '$[#-1]'), ''), new.text`
    : sql`'a' || replace(new.agent_id, '-', ''), coalesce(new.title, '') || ' ' || new.heading_path, new.text`;
  await sql`create trigger file_chunks_fts_insert after insert on file_chunks begin
    insert into file_chunks_fts (rowid, ${columns}) values (new.seq, ${newValues});
  end`.execute(db);
}

async function rebuildPostgres(db: Kysely<unknown>, options: { heading: boolean }): Promise<void> {
  await sql`alter table file_chunks drop column search_vector`.execute(db);
  const heading = options.heading
    ? sql`|| setweight(to_tsvector('english', coalesce(heading_path::jsonb ->> -1, '')), 'C')`
    : sql``;
  await sql`alter table file_chunks add column search_vector tsvector generated always as (
    setweight(to_tsvector('english', coalesce(title, '') || ' ' || heading_path), 'B')
      ${heading}
      || setweight(to_tsvector('english', text), 'A')
  ) stored`.execute(db);
  await sql`create index file_chunks_search on file_chunks using gin (search_vector)`.execute(db);
}
