import { randomUUID } from 'node:crypto';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { chunkRows, type NewFileChunk } from '../../src/knowledge/chunk-rows.js';
import type { ExtractedDocument } from '../../src/knowledge/document.js';
import type { EmbeddingModel } from '../../src/knowledge/embeddings.js';
import { openDatabase, type DatabaseHandle } from '../../src/storage/kysely/database.js';
import type { AgentFileRow } from '../../src/storage/kysely/schema.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { agentInput } from './contract/fixtures.js';

/**
 * A real database (SQLite, or PostgreSQL under `npm run test:pg`) with a store, for the chunk
 * index's tests. File rows are written with raw Kysely on a second handle: the agent-files store
 * belongs to the ingestion side, and these tests only need rows in the table.
 */
export interface ChunkIndexFixture {
  readonly store: Store;
  readonly inspector: DatabaseHandle;
  newAgent(organizationId?: string): Promise<{ organizationId: string; agentId: string }>;
  /** A file row, `ready` at `generation` unless told otherwise. */
  newFile(input: { organizationId: string; agentId: string; name?: string } & Partial<AgentFileRow>): Promise<string>;
  /** Chunks `document` through chunkDocument + chunkRows and inserts the rows in one unit. */
  index(input: IndexInput): Promise<NewFileChunk[]>;
  close(): Promise<void>;
}

export interface IndexInput {
  organizationId: string;
  agentId: string;
  fileId: string;
  generation: number;
  document: ExtractedDocument;
  embeddings?: EmbeddingModel | null;
  url?: string | null;
  targetTokens?: number;
  overlapTokens?: number;
}

const NOW = new Date('2026-01-01T00:00:00.000Z');

export async function openChunkIndexFixture(openTestDatabase: () => Promise<TestDatabase> = createTestDatabase) {
  const database = await openTestDatabase();
  const store = await openStore(database.target);
  const inspector = openDatabase(database.target, { postgresPoolSize: 2 });
  // Chunk ids in insertion order: ties in ranking are broken by chunk id, and random ids would make
  // a tie (two chunks scoring exactly alike) come out differently from run to run.
  let chunkCount = 0;
  const newChunkId = () => `00000000-0000-4000-8000-${(chunkCount++).toString(16).padStart(12, '0')}`;
  const fixture: ChunkIndexFixture = {
    store,
    inspector,
    async newAgent(organizationId) {
      const organization =
        organizationId ??
        (
          await store.write((writers) =>
            writers.organizations.ensure({ id: randomUUID(), name: `org-${randomUUID()}`, now: NOW.toISOString() }),
          )
        ).id;
      const agent = await store.write((writers) => writers.agents.insert(agentInput(organization)));
      return { organizationId: organization, agentId: agent.id };
    },
    async newFile(input) {
      const { organizationId, agentId, ...overrides } = input;
      const id = overrides.id ?? randomUUID();
      await inspector.write((db) =>
        db
          .insertInto('agent_files')
          .values({
            id,
            organization_id: organizationId,
            agent_id: agentId,
            name: 'file.md',
            source: 'upload',
            source_url: null,
            kind: 'markdown',
            mime_type: 'text/markdown',
            size: 1,
            sha256: null,
            storage_key: `${organizationId}/${id}`,
            status: 'ready',
            error_message: null,
            metadata: '{}',
            ready_generation: 1,
            building_generation: 1,
            chunk_count: 0,
            text_bytes: 0,
            indexed_at: NOW.toISOString(),
            created_at: NOW.toISOString(),
            updated_at: NOW.toISOString(),
            ...overrides,
          })
          .execute(),
      );
      return id;
    },
    async index(input) {
      const chunks = chunkDocument(input.document, {
        targetTokens: input.targetTokens ?? 350,
        overlapTokens: input.overlapTokens ?? 50,
      });
      const rows = await chunkRows({
        organizationId: input.organizationId,
        agentId: input.agentId,
        fileId: input.fileId,
        generation: input.generation,
        firstOrdinal: 0,
        chunks,
        url: input.url ?? null,
        title: input.url ? (input.document.title ?? null) : null,
        embeddings: input.embeddings ?? null,
        newId: newChunkId,
        now: NOW,
      });
      await store.write((writers) => writers.fileChunks.insertMany(rows));
      // As marking a file ready does: `chunk_count` is its ready generation's chunks.
      await inspector.write((db) =>
        db
          .updateTable('agent_files')
          .set((eb) => ({
            chunk_count: eb
              .selectFrom('file_chunks')
              .select((count) => count.fn.countAll<number>().as('chunks'))
              .whereRef('file_chunks.file_id', '=', 'agent_files.id')
              .whereRef('file_chunks.generation', '=', 'agent_files.ready_generation'),
          }))
          .where('id', '=', input.fileId)
          .execute(),
      );
      return rows;
    },
    async close() {
      // The store first: closing SQLite checkpoints the WAL, which waits for other connections.
      await store.close();
      await inspector.close();
      await database.destroy();
    },
  };
  return fixture;
}

/** A document of one section per text, all under `headingPath`. */
export function sectionsDocument(texts: readonly string[], headingPath: readonly string[] = []): ExtractedDocument {
  return { title: null, pageCount: null, sections: texts.map((text) => ({ headingPath, page: null, text })) };
}
