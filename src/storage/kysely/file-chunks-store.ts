import type { KnowledgeHit } from '../../domain/knowledge-hits.js';
import type { NewFileChunk } from './schema.js';
import { parseJson, type Executor } from './executor.js';
import { sqliteFullText } from './file-chunks-full-text.js';
import type { FullTextIndex, FullTextMatch, FullTextQuery } from './file-chunks-full-text-index.js';
import { postgresFullText } from './file-chunks-full-text-postgres.js';

/** A searchable passage as search returns it, before a similarity is given to it. */
export type KnowledgeChunk = Omit<KnowledgeHit, 'similarity'>;

/** A ready file of an agent and the generation of chunks search sees. */
export interface ReadyFileGeneration {
  fileId: string;
  generation: number;
}

export interface StoredEmbedding {
  chunkId: string;
  embedding: Uint8Array;
}

type ChunkRow = Omit<FullTextMatch, 'score'>;

function rowToChunk(row: ChunkRow): KnowledgeChunk {
  return {
    fileId: row.file_id,
    fileName: row.file_name,
    chunkId: row.id,
    text: row.text,
    headingPath: parseJson<string[]>(row.heading_path),
    page: row.page,
    url: row.url,
    title: row.title,
  };
}

/**
 * Reads of the chunk index (docs/knowledge-search.md). Every statement names the organisation
 * and the agent, and sees only the ready generation of `ready` files.
 */
export class FileChunkReader {
  readonly #fullText: FullTextIndex;

  constructor(
    private readonly db: Executor,
    dialect: 'sqlite' | 'postgres',
  ) {
    this.#fullText = dialect === 'sqlite' ? sqliteFullText : postgresFullText;
  }

  /**
   * The agent's chunks matching any of `terms` (sanitised: src/knowledge/query-terms.ts), best
   * first, ties by chunk id; `score` is in 0..1. `weights` (whole numbers, one a term) scale
   * each term's part of the relevance (file-chunks-full-text-index.ts).
   */
  async fullText(input: FullTextQuery): Promise<{ chunk: KnowledgeChunk; score: number }[]> {
    if (input.terms.length === 0) return [];
    const rows = await this.#fullText.search(this.db, input);
    return rows.map((row) => ({ chunk: rowToChunk(row), score: Number(row.score) }));
  }

  /** The agent's ready files and their searchable generation, by file id. */
  async readyGenerations(input: { organizationId: string; agentId: string }): Promise<ReadyFileGeneration[]> {
    const rows = await this.db
      .selectFrom('agent_files')
      .select(['id', 'ready_generation'])
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('status', '=', 'ready')
      .where('ready_generation', '>', 0)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ fileId: row.id, generation: row.ready_generation }));
  }

  /** The stored embeddings of one generation of a file, in chunk order. */
  async embeddings(input: { organizationId: string; fileId: string; generation: number }): Promise<StoredEmbedding[]> {
    const rows = await this.db
      .selectFrom('file_chunks')
      .select(['id', 'embedding'])
      .where('organization_id', '=', input.organizationId)
      .where('file_id', '=', input.fileId)
      .where('generation', '=', input.generation)
      .where('embedding', 'is not', null)
      .orderBy('ordinal')
      .execute();
    return rows.map((row) => ({ chunkId: row.id, embedding: row.embedding! }));
  }

  /** The agent's searchable chunks among `ids` (any order; ids not searchable are left out). */
  async chunks(input: { organizationId: string; agentId: string; ids: readonly string[] }): Promise<KnowledgeChunk[]> {
    if (input.ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('file_chunks as c')
      .innerJoin('agent_files as f', 'f.id', 'c.file_id')
      .select(['c.id', 'c.file_id', 'f.name as file_name', 'c.text', 'c.heading_path', 'c.page', 'c.url', 'c.title'])
      .where('c.organization_id', '=', input.organizationId)
      .where('c.agent_id', '=', input.agentId)
      .where('f.organization_id', '=', input.organizationId)
      .where('f.status', '=', 'ready')
      .whereRef('c.generation', '=', 'f.ready_generation')
      .where('c.id', 'in', [...input.ids])
      .execute();
    return rows.map(rowToChunk);
  }
}

/**
 * Rows per INSERT: 14 values a row keeps a statement of 500 rows at 7,000 parameters, below
 * SQLite's limit (32,766 since 3.32) and PostgreSQL's (65,535).
 */
const INSERT_BATCH_ROWS = 500;

export class FileChunkWriter {
  constructor(private readonly db: Executor) {}

  /** Inserts the rows (one generation of a file, or a page of it) in batches. */
  async insertMany(rows: readonly NewFileChunk[]): Promise<void> {
    for (let start = 0; start < rows.length; start += INSERT_BATCH_ROWS) {
      await this.db
        .insertInto('file_chunks')
        .values(rows.slice(start, start + INSERT_BATCH_ROWS))
        .execute();
    }
  }

  /** Deletes the file's chunks of every generation but `keep` (the full-text index follows); the count deleted. */
  async deleteGenerationsExcept(input: { organizationId: string; fileId: string; keep: number }): Promise<number> {
    const result = await this.db
      .deleteFrom('file_chunks')
      .where('organization_id', '=', input.organizationId)
      .where('file_id', '=', input.fileId)
      .where('generation', '!=', input.keep)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
