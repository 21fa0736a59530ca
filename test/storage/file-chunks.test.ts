import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEmbedding } from '../../src/knowledge/embeddings-codec.js';
import type { EmbeddingModel } from '../../src/knowledge/embeddings.js';
import { TEST_DIALECT } from '../helpers/test-database.js';
import { openChunkIndexFixture, sectionsDocument, type ChunkIndexFixture } from './file-chunks-fixture.js';

/**
 * The chunk index's store on the test dialect (SQLite; PostgreSQL under `npm run test:pg`):
 * inserts and generations, the full-text index kept in step, and what a search may see.
 */
let fixture: ChunkIndexFixture;

beforeAll(async () => {
  fixture = await openChunkIndexFixture();
});

afterAll(async () => {
  await fixture?.close();
});

async function search(input: { organizationId: string; agentId: string }, terms: string[], limit = 10) {
  const matches = await fixture.store.fileChunks.fullText({ ...input, terms, limit });
  return matches.map(({ chunk }) => chunk.text);
}

/** Rows of the full-text index for these chunk ids: the FTS5 table's, or the chunk rows' own tsvector. */
async function indexedRows(chunkIds: readonly string[]): Promise<number> {
  const ids = sql.join(chunkIds.map((id) => sql`${id}`));
  const query =
    TEST_DIALECT === 'sqlite'
      ? sql<{ count: number }>`select count(*) as count from file_chunks_fts
          where rowid in (select seq from file_chunks where id in (${ids}))
             or rowid not in (select seq from file_chunks)`
      : sql<{
          count: number;
        }>`select count(*) as count from file_chunks where id in (${ids}) and search_vector is not null`;
  const result = await query.execute(fixture.inspector.reader);
  return Number(result.rows[0]!.count);
}

describe('file chunks store', () => {
  it('inserts many rows in batches and deletes every generation but the one kept', async () => {
    const agent = await fixture.newAgent();
    const fileId = await fixture.newFile({ ...agent, ready_generation: 2, building_generation: 2 });
    const texts = Array.from({ length: 1203 }, (_, index) => `Passage number ${index} about zebras.`);
    const old = await fixture.index({
      ...agent,
      fileId,
      generation: 1,
      document: sectionsDocument(texts),
      targetTokens: 8,
      overlapTokens: 0,
    });
    const kept = await fixture.index({ ...agent, fileId, generation: 2, document: sectionsDocument(['Zebras now.']) });
    expect(old.length).toBeGreaterThan(500 * 2);
    const stored = await fixture.inspector.reader
      .selectFrom('file_chunks')
      .selectAll()
      .where('file_id', '=', fileId)
      .orderBy('generation')
      .orderBy('ordinal')
      .execute();
    // Without `seq` (the database's) and PostgreSQL's generated `search_vector`.
    const columns = Object.keys(old[0]!) as (keyof (typeof old)[0])[];
    expect(stored.map((row) => Object.fromEntries(columns.map((column) => [column, row[column]])))).toEqual([
      ...old,
      ...kept,
    ]);
    expect(await indexedRows(old.map((row) => row.id))).toBe(old.length);

    const deleted = await fixture.store.write((writers) =>
      writers.fileChunks.deleteGenerationsExcept({ organizationId: agent.organizationId, fileId, keep: 2 }),
    );
    expect(deleted).toBe(old.length);
    expect(await indexedRows(old.map((row) => row.id))).toBe(0);
    expect(await search(agent, ['zebras'])).toEqual(['Zebras now.']);
    // Another organisation's id deletes nothing.
    const other = await fixture.newAgent();
    const none = await fixture.store.write((writers) =>
      writers.fileChunks.deleteGenerationsExcept({ organizationId: other.organizationId, fileId, keep: 0 }),
    );
    expect(none).toBe(0);
  });

  it('deleting a file row cascades to its chunks and leaves nothing in the full-text index', async () => {
    const agent = await fixture.newAgent();
    const fileId = await fixture.newFile(agent);
    const rows = await fixture.index({ ...agent, fileId, generation: 1, document: sectionsDocument(['Cascade me.']) });
    expect(await search(agent, ['cascade'])).toEqual(['Cascade me.']);
    await fixture.inspector.write((db) => db.deleteFrom('agent_files').where('id', '=', fileId).execute());
    const left = await fixture.inspector.reader
      .selectFrom('file_chunks')
      .select('id')
      .where('file_id', '=', fileId)
      .execute();
    expect(left).toEqual([]);
    expect(await indexedRows(rows.map((row) => row.id))).toBe(0);
    expect(await search(agent, ['cascade'])).toEqual([]);
  });

  it('searches only the ready generation of ready files', async () => {
    const agent = await fixture.newAgent();
    const fileId = await fixture.newFile({ ...agent, ready_generation: 1, building_generation: 2 });
    await fixture.index({ ...agent, fileId, generation: 1, document: sectionsDocument(['Old otters swim.']) });
    await fixture.index({ ...agent, fileId, generation: 2, document: sectionsDocument(['New otters dive.']) });
    expect(await search(agent, ['otters'])).toEqual(['Old otters swim.']);

    await fixture.inspector.write((db) =>
      db.updateTable('agent_files').set({ ready_generation: 2 }).where('id', '=', fileId).execute(),
    );
    expect(await search(agent, ['otters'])).toEqual(['New otters dive.']);

    for (const status of ['processing', 'failed']) {
      await fixture.inspector.write((db) =>
        db.updateTable('agent_files').set({ status }).where('id', '=', fileId).execute(),
      );
      expect(await search(agent, ['otters'])).toEqual([]);
    }
    // A file never indexed (generation 0) has nothing to show even if marked ready.
    const empty = await fixture.newFile({ ...agent, ready_generation: 0, building_generation: 1 });
    await fixture.index({ ...agent, fileId: empty, generation: 1, document: sectionsDocument(['Otters building.']) });
    expect(await search(agent, ['otters'])).toEqual([]);
  });

  it('keeps organisations and agents apart, even for the same file id shape and text', async () => {
    const first = await fixture.newAgent();
    const sibling = await fixture.newAgent(first.organizationId);
    const stranger = await fixture.newAgent();
    for (const agent of [first, sibling, stranger]) {
      const fileId = await fixture.newFile({ ...agent, name: `${agent.agentId}.md` });
      await fixture.index({
        ...agent,
        fileId,
        generation: 1,
        document: sectionsDocument([`Walrus facts for ${agent.agentId}.`]),
      });
    }
    for (const agent of [first, sibling, stranger]) {
      const matches = await fixture.store.fileChunks.fullText({ ...agent, terms: ['walrus'], limit: 10 });
      expect(matches.map(({ chunk }) => [chunk.text, chunk.fileName])).toEqual([
        [`Walrus facts for ${agent.agentId}.`, `${agent.agentId}.md`],
      ]);
    }
    // The agent of one organisation under another organisation's id: nothing.
    expect(await search({ organizationId: stranger.organizationId, agentId: first.agentId }, ['walrus'])).toEqual([]);
    const firstChunk = (await fixture.store.fileChunks.fullText({ ...first, terms: ['walrus'], limit: 1 }))[0]!.chunk;
    expect(await fixture.store.fileChunks.chunks({ ...sibling, ids: [firstChunk.chunkId] })).toEqual([]);
    expect(await fixture.store.fileChunks.chunks({ ...first, ids: [firstChunk.chunkId] })).toEqual([firstChunk]);
  });

  it('ranks better matches first with scores in 0..1, ties by chunk id, and indexes the heading path', async () => {
    const agent = await fixture.newAgent();
    const fileId = await fixture.newFile(agent);
    await fixture.index({
      ...agent,
      fileId,
      generation: 1,
      document: {
        title: null,
        pageCount: 4,
        sections: [
          { headingPath: ['Parental leave'], page: 4, text: 'Sixteen weeks, paid in full.' },
          {
            headingPath: ['Expenses'],
            page: null,
            text: 'Leave receipts with finance. Parental approval is not needed.',
          },
          { headingPath: ['Other'], page: null, text: 'Nothing relevant here.' },
        ],
      },
    });
    const matches = await fixture.store.fileChunks.fullText({ ...agent, terms: ['parental', 'leave'], limit: 10 });
    expect(matches.map(({ chunk }) => [chunk.text, chunk.headingPath, chunk.page])).toEqual([
      ['Sixteen weeks, paid in full.', ['Parental leave'], 4],
      ['Leave receipts with finance. Parental approval is not needed.', ['Expenses'], null],
    ]);
    const [first, second] = matches.map(({ score }) => score);
    expect(first).toBeGreaterThan(second!);
    expect(second).toBeGreaterThan(0);
    expect(first).toBeLessThan(1);

    const twins = await fixture.newFile(agent);
    await fixture.index({ ...agent, fileId: twins, generation: 1, document: sectionsDocument(['Identical twin.']) });
    await fixture.index({ ...agent, fileId: twins, generation: 1, document: sectionsDocument(['Identical twin.']) });
    const tied = await fixture.store.fileChunks.fullText({ ...agent, terms: ['twin'], limit: 10 });
    expect(tied.map(({ chunk }) => chunk.chunkId)).toEqual(tied.map(({ chunk }) => chunk.chunkId).sort());
    expect(tied[0]!.score).toBe(tied[1]!.score);
  });

  it('stores and searches unicode text', async () => {
    const agent = await fixture.newAgent();
    const fileId = await fixture.newFile({ ...agent, name: 'recettes-été.md' });
    const texts = ['Crème brûlée au café.', '東京の天気は晴れです。', 'Emoji 🦜 parrots speak Ελληνικά.'];
    await fixture.index({ ...agent, fileId, generation: 1, document: sectionsDocument(texts, ['Desserts — été']) });
    const hits = await fixture.store.fileChunks.fullText({ ...agent, terms: ['crème', 'brûlée'], limit: 5 });
    expect(hits.map(({ chunk }) => [chunk.text, chunk.fileName, chunk.headingPath])).toEqual([
      [
        'Crème brûlée au café.\n\n東京の天気は晴れです。\n\nEmoji 🦜 parrots speak Ελληνικά.',
        'recettes-été.md',
        ['Desserts — été'],
      ],
    ]);
    expect(await search(agent, ['ελληνικά'])).toHaveLength(1);
    expect(await search(agent, ['parrots'])).toHaveLength(1);
  });

  it('stores embeddings as float32 little-endian and reads one generation of a file back', async () => {
    const agent = await fixture.newAgent();
    const fileId = await fixture.newFile(agent);
    const embeddings: EmbeddingModel = {
      id: 'test:fixed',
      embed: async (texts) => texts.map((_, index) => Float32Array.from([index, -0.5, 1.25])),
    };
    const rows = await fixture.index({
      ...agent,
      fileId,
      generation: 1,
      embeddings,
      document: sectionsDocument(['One.', 'Two.'], []),
      targetTokens: 2,
      overlapTokens: 0,
    });
    expect(Buffer.from(rows[1]!.embedding!).toString('hex')).toBe('0000803f000000bf0000a03f');
    const stored = await fixture.store.fileChunks.embeddings({
      organizationId: agent.organizationId,
      fileId,
      generation: 1,
    });
    expect(stored.map((row) => [row.chunkId, [...decodeEmbedding(row.embedding)]])).toEqual([
      [rows[0]!.id, [0, -0.5, 1.25]],
      [rows[1]!.id, [1, -0.5, 1.25]],
    ]);
    const other = await fixture.newAgent();
    expect(
      await fixture.store.fileChunks.embeddings({ organizationId: other.organizationId, fileId, generation: 1 }),
    ).toEqual([]);
    expect(await fixture.store.fileChunks.readyGenerations(agent)).toEqual([{ fileId, generation: 1 }]);
    expect(randomUUID()).not.toBe(fileId);
  });
});
