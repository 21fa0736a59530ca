import { SqliteAdapter, sql, type Kysely } from 'kysely';

/**
 * Agents' knowledge files, their indexed chunks, and the background jobs that build them (issue 11).
 *
 * - `agent_files`: one row per uploaded file or added URL. `name` is a display label only (the
 *   client's file name, sanitised); the bytes live under `storage_key`, which the server makes
 *   from ids and never from anything the client sent. `status` is `processing | ready | failed`
 *   with `error_message` saying why a file failed. `ready_generation` is the generation of chunks
 *   that search sees (0: none yet); a (re-)index writes its chunks under `building_generation`
 *   and switches `ready_generation` to it in the transaction that marks the file ready, so a
 *   half-built index is never visible and a re-crawl replaces the old one in one step.
 * - `file_chunks`: the searchable passages of a file, one generation at a time. `heading_path`
 *   is a JSON array of headings; `page` (PDF) and `url`/`title` (crawled pages) say where the
 *   passage came from; `embedding` holds float32 values (little-endian) when an embedding model
 *   is configured, else null.
 * - The full-text index is the one dialect difference: on SQLite an FTS5 table kept in step by
 *   triggers (`scope` holds one token per agent, so a search is narrowed to one agent inside the
 *   index); on PostgreSQL a generated `tsvector` column with a GIN index.
 * - `jobs`: a lease-based queue in the main database (architecture §2), generic over `kind`
 *   (`file_ingestion` now; flows later). A worker claims a due job by setting `lease_owner` and
 *   `lease_until`; a job whose lease lapsed (its process died) is claimed again, up to
 *   `max_attempts`. `progress` is JSON the job's kind defines.
 *
 * Every table cascades from its organisation (and files from their agent), so deleting an agent
 * leaves no file rows or chunks behind; the bytes are removed by the application.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  await db.schema
    .createTable('agent_files')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('source_url', 'text')
    .addColumn('kind', 'text')
    .addColumn('mime_type', 'text', (column) => column.notNull())
    .addColumn('size', 'integer', (column) => column.notNull())
    .addColumn('sha256', 'text')
    .addColumn('storage_key', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('error_message', 'text')
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('ready_generation', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('building_generation', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('chunk_count', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('text_bytes', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('indexed_at', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('agent_files_agent')
    .on('agent_files')
    .columns(['organization_id', 'agent_id', 'created_at', 'id'])
    .execute();

  // `seq` is the integer key the SQLite full-text table refers to (its rowid): an alias of the
  // rowid there, which VACUUM never renumbers; an identity column on PostgreSQL, unused.
  const chunks = sqlite
    ? db.schema
        .createTable('file_chunks')
        .addColumn('seq', 'integer', (column) => column.primaryKey())
        .addColumn('id', 'text', (column) => column.notNull().unique())
    : db.schema
        .createTable('file_chunks')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('seq', 'bigint', (column) => column.generatedByDefaultAsIdentity());
  await chunks
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('agent_id', 'text', (column) => column.notNull())
    .addColumn('file_id', 'text', (column) => column.notNull().references('agent_files.id').onDelete('cascade'))
    .addColumn('generation', 'integer', (column) => column.notNull())
    .addColumn('ordinal', 'integer', (column) => column.notNull())
    .addColumn('text', 'text', (column) => column.notNull())
    .addColumn('heading_path', 'text', (column) => column.notNull())
    .addColumn('page', 'integer')
    .addColumn('url', 'text')
    .addColumn('title', 'text')
    .addColumn('token_count', 'integer', (column) => column.notNull())
    .addColumn('embedding', sqlite ? 'blob' : sql`bytea`)
    .addColumn('created_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('file_chunks_file')
    .on('file_chunks')
    .columns(['file_id', 'generation', 'ordinal'])
    .execute();
  await db.schema
    .createIndex('file_chunks_agent')
    .on('file_chunks')
    .columns(['organization_id', 'agent_id', 'file_id', 'generation'])
    .execute();
  if (sqlite) await createSqliteFullText(db);
  else await createPostgresFullText(db);

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('subject_id', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (column) => column.notNull())
    .addColumn('run_after', 'text', (column) => column.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('progress', 'text', (column) => column.notNull())
    .addColumn('error_message', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_after']).execute();
  await db.schema
    .createIndex('jobs_subject')
    .on('jobs')
    .columns(['organization_id', 'subject_id', 'created_at'])
    .execute();
}

/**
 * FTS5 with the Porter stemmer over unicode61 (diacritics folded). `scope` is `a` + the agent id
 * without dashes, weighted 0 in ranking; `title` (the page title and the heading path, whose JSON
 * punctuation the tokenizer drops) and `body` are ranked. The index's rowid is the
 * chunk's `seq`, so a chunk is found, joined and deleted by its integer key. The table keeps its
 * own copy of the text (no external content): simpler to keep right than triggers that must
 * replay old values to an external-content table.
 */
async function createSqliteFullText(db: Kysely<unknown>): Promise<void> {
  await sql`create virtual table file_chunks_fts using fts5(
    scope, title, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
  )`.execute(db);
  await sql`create trigger file_chunks_fts_insert after insert on file_chunks begin
    insert into file_chunks_fts (rowid, scope, title, body)
    values (new.seq, 'a' || replace(new.agent_id, '-', ''), coalesce(new.title, '') || ' ' || new.heading_path, new.text);
  end`.execute(db);
  await sql`create trigger file_chunks_fts_delete after delete on file_chunks begin
    delete from file_chunks_fts where rowid = old.seq;
  end`.execute(db);
}

/**
 * English stemming (`english` text search configuration) over the title and heading path (weight
 * B; the parser drops the JSON punctuation) and the text (weight A).
 */
async function createPostgresFullText(db: Kysely<unknown>): Promise<void> {
  await sql`alter table file_chunks add column search_vector tsvector generated always as (
    setweight(to_tsvector('english', coalesce(title, '') || ' ' || heading_path), 'B')
      || setweight(to_tsvector('english', text), 'A')
  ) stored`.execute(db);
  await sql`create index file_chunks_search on file_chunks using gin (search_vector)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  await db.schema.dropTable('jobs').execute();
  if (sqlite) {
    await sql`drop trigger file_chunks_fts_delete`.execute(db);
    await sql`drop trigger file_chunks_fts_insert`.execute(db);
    await sql`drop table file_chunks_fts`.execute(db);
  }
  await db.schema.dropTable('file_chunks').execute();
  await db.schema.dropTable('agent_files').execute();
}
