import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as migration from '../../src/storage/kysely/migrations/0023-chunk-section-heading.js';
import { TEST_DIALECT } from '../helpers/test-database.js';
import { openChunkIndexFixture, type ChunkIndexFixture } from './file-chunks-fixture.js';

/**
 * Migration 0023 (src/storage/kysely/migrations/0023-chunk-section-heading.ts) on a real
 * database: chunks indexed before it get their section heading in the index when it runs.
 */
let fixture: ChunkIndexFixture;

beforeAll(async () => {
  fixture = await openChunkIndexFixture();
});

afterAll(async () => {
  await fixture?.close();
});

/** What the index holds of the section heading, per chunk text: FTS5's column, or the weight-C lexemes. */
async function indexedHeadings(agentId: string): Promise<Record<string, string>> {
  const statement =
    TEST_DIALECT === 'sqlite'
      ? sql<{ text: string; heading: string }>`select c.text, f.heading from file_chunks c
          join file_chunks_fts f on f.rowid = c.seq where c.agent_id = ${agentId}`
      : sql<{ text: string; heading: string }>`select c.text,
          coalesce(array_to_string(tsvector_to_array(ts_filter(c.search_vector, '{c}')), ' '), '') as heading
          from file_chunks c where c.agent_id = ${agentId}`;
  const result = await statement.execute(fixture.inspector.reader);
  return Object.fromEntries(result.rows.map((row) => [row.text, row.heading]));
}

describe(`migration 0023, the section heading in the chunk index (${TEST_DIALECT})`, () => {
  it('re-indexes the chunks written before it, and later chunks get the heading as they are inserted', async () => {
    const agent = await fixture.newAgent();
    const index = async (name: string, sections: { headingPath: string[]; text: string }[]) =>
      fixture.index({
        ...agent,
        fileId: await fixture.newFile({ ...agent, name }),
        generation: 1,
        document: { title: null, pageCount: null, sections: sections.map((section) => ({ ...section, page: null })) },
      });
    await fixture.inspector.write((db) => migration.down(db as unknown as Kysely<unknown>));
    await index('before.md', [
      { headingPath: ['Password rules', 'Changing a password'], text: 'Passwords do not expire.' },
      { headingPath: [], text: 'A passage without headings.' },
    ]);
    await fixture.inspector.write((db) => migration.up(db as unknown as Kysely<unknown>));
    await index('after.md', [{ headingPath: ['Parking', 'Visitors'], text: 'Visitors park at the gate.' }]);

    const stems = TEST_DIALECT === 'sqlite' ? ['Changing a password', 'Visitors'] : ['chang password', 'visitor'];
    expect(await indexedHeadings(agent.agentId)).toEqual({
      'Passwords do not expire.': stems[0],
      'A passage without headings.': '',
      'Visitors park at the gate.': stems[1],
    });
    const hits = await fixture.store.fileChunks.fullText({ ...agent, terms: ['changing'], limit: 5 });
    expect(hits.map(({ chunk }) => chunk.text)).toEqual(['Passwords do not expire.']);
  });
});
