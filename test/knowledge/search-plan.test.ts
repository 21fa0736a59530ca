import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedPlan, sqliteFullTextIndex } from '../../src/storage/kysely/file-chunks-full-text.js';
import type { FullTextIndex, FullTextMatch } from '../../src/storage/kysely/file-chunks-full-text-index.js';
import { postgresFullTextIndex } from '../../src/storage/kysely/file-chunks-full-text-postgres.js';
import { createTestDatabase, TEST_DIALECT } from '../helpers/test-database.js';
import { openChunkIndexFixture, sectionsDocument, type ChunkIndexFixture } from '../storage/file-chunks-fixture.js';

/**
 * The full-text indexes' bounded plans (src/storage/kysely/file-chunks-full-text.ts): with a budget
 * of 3 ranked rows, terms in more rows are "common" and only rank rows that have a rarer term; the
 * answers must be the exact plan's. The suite's dialect (SQLite, or PostgreSQL under test:pg);
 * the FTS5 expressions are checked on SQLite whatever the dialect.
 */
let fixture: ChunkIndexFixture;
let sqlite: ChunkIndexFixture;
let agent: { organizationId: string; agentId: string };
const indexOf = TEST_DIALECT === 'sqlite' ? sqliteFullTextIndex : postgresFullTextIndex;
const bounded: FullTextIndex = indexOf({ rankedRowsBudget: 3 });
const exact: FullTextIndex = indexOf({ rankedRowsBudget: Infinity });

/** One chunk per text (at most 10 words to a chunk of 14 tokens, no overlap), and another agent's. */
async function indexTexts(into: ChunkIndexFixture): Promise<{ organizationId: string; agentId: string }> {
  const owner = await into.newAgent();
  const other = await into.newAgent(owner.organizationId);
  const texts = [
    'The harbour crane lifts containers.',
    'A crane at the harbour lifts heavy containers onto ships.',
    'Containers are stacked in the yard.',
    'Containers wait for ships in the yard.',
    'Ships and containers, containers and ships.',
    'The yard holds empty containers.',
    'Ships leave the harbour at dawn.',
    'Ships are loaded at night.',
  ];
  const fileId = await into.newFile(owner);
  await into.index({
    ...owner,
    fileId,
    generation: 1,
    document: sectionsDocument(texts),
    targetTokens: 14,
    overlapTokens: 0,
  });
  const otherFile = await into.newFile(other);
  await into.index({
    ...other,
    fileId: otherFile,
    generation: 1,
    document: sectionsDocument(['Another harbour, another dock.', 'Containers and a crane.']),
    targetTokens: 7,
    overlapTokens: 0,
  });
  return owner;
}

beforeAll(async () => {
  fixture = await openChunkIndexFixture();
  agent = await indexTexts(fixture);
  sqlite = TEST_DIALECT === 'sqlite' ? fixture : await openChunkIndexFixture(() => createTestDatabase('sqlite'));
  if (sqlite !== fixture) await indexTexts(sqlite);
});

afterAll(async () => {
  await fixture?.close();
  if (sqlite !== fixture) await sqlite?.close();
});

async function both(terms: string[], limit: number) {
  const input = { ...agent, terms, limit };
  const reader = fixture.inspector.reader;
  return { bounded: await bounded.search(reader, input), exact: await exact.search(reader, input) };
}

const texts = (rows: { text: string }[]) => rows.map((row) => row.text);

/**
 * The bounded plan answers as the exact one: the same chunks in the same order, and on SQLite the
 * same scores too. (On PostgreSQL a common lexeme's idf comes from its capped count, an upper
 * bound, so scores differ where a common lexeme counts.)
 */
function expectExactAnswer(answer: { bounded: FullTextMatch[]; exact: FullTextMatch[] }) {
  if (TEST_DIALECT === 'sqlite') expect(answer.bounded).toEqual(answer.exact);
  else expect(answer.bounded.map((row) => row.id)).toEqual(answer.exact.map((row) => row.id));
}

describe('the bounded SQLite query plan', () => {
  it('splits the terms by their frequency in the whole index', async () => {
    const plan = (terms: string[]) => boundedPlan(sqlite.inspector.reader, terms, 3);
    expect(await plan(['crane', 'containers', 'ships'])).toEqual({
      expressions: [
        '{title heading body} : ("crane") AND {title heading body} : ("containers" OR "ships")',
        '{title heading body} : ("crane") NOT {title heading body} : ("containers" OR "ships")',
      ],
      exact: false,
    });
    expect(await plan(['another', 'dock'])).toEqual({
      expressions: ['{title heading body} : ("another" OR "dock")'],
      exact: true,
    });
    expect(await plan(['containers', 'ships'])).toEqual({
      expressions: ['{title heading body} : ("containers") AND {title heading body} : ("ships")'],
      exact: false,
    });
    expect(await plan(['zeppelin'])).toEqual({ expressions: [], exact: true });
  });
});

describe(`the bounded plan (${TEST_DIALECT})`, () => {
  it('ranks the rows with a rare term by their whole score, as the exact plan does', async () => {
    // "crane" is in 3 rows of the index (two of the agent's; within the budget: essential),
    // "containers" and "ships" in more (common).
    const answer = await both(['crane', 'containers', 'ships'], 2);
    expect(texts(answer.bounded).sort()).toEqual([
      'A crane at the harbour lifts heavy containers onto ships.',
      'The harbour crane lifts containers.',
    ]);
    expectExactAnswer(answer);
  });

  it('leaves out a term found in no row', async () => {
    expect(await both(['crane', 'zeppelin'], 2)).toEqual(await both(['crane'], 2));
  });

  it('with only common terms, ranks the rows that have them all', async () => {
    const answer = await both(['containers', 'ships'], 2);
    expect(texts(answer.bounded)).toEqual([
      'Ships and containers, containers and ships.',
      'Containers wait for ships in the yard.',
    ]);
    expectExactAnswer(answer);
  });

  it('answers with the exact plan when the bounded one finds fewer than the limit', async () => {
    // Only two of the agent's rows have "crane"; the third hit has only a common term.
    const answer = await both(['crane', 'yard'], 3);
    expect(answer.bounded).toHaveLength(3);
    expectExactAnswer(answer);
    expect(answer.bounded.map((row) => row.file_id)).not.toContain(undefined);
  });

  it("never answers with another agent's rows, though they count in the frequencies", async () => {
    const answer = await both(['crane', 'harbour', 'another'], 5);
    expectExactAnswer(answer);
    expect(texts(answer.bounded).some((text) => text.includes('Another'))).toBe(false);
  });
});
