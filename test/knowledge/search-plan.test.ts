import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  boundedPlan,
  sqliteFullTextIndex,
  type FullTextIndex,
} from '../../src/storage/kysely/file-chunks-full-text.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { openChunkIndexFixture, sectionsDocument, type ChunkIndexFixture } from '../storage/file-chunks-fixture.js';

/**
 * The SQLite query plan's bounds (src/storage/kysely/file-chunks-full-text.ts): with a budget of 3
 * ranked rows, terms in more rows are "common" and only rank rows that have a rarer term. These
 * run on SQLite whatever the suite's dialect: the plan is FTS5's.
 */
let fixture: ChunkIndexFixture;
let agent: { organizationId: string; agentId: string };
let other: { organizationId: string; agentId: string };
const bounded: FullTextIndex = sqliteFullTextIndex({ rankedRowsBudget: 3 });
const exact: FullTextIndex = sqliteFullTextIndex({ rankedRowsBudget: Infinity });

beforeAll(async () => {
  fixture = await openChunkIndexFixture(() => createTestDatabase('sqlite'));
  agent = await fixture.newAgent();
  other = await fixture.newAgent(agent.organizationId);
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
  // One chunk per text (at most 10 words to a chunk of 14 tokens, no overlap).
  const fileId = await fixture.newFile(agent);
  await fixture.index({
    ...agent,
    fileId,
    generation: 1,
    document: sectionsDocument(texts),
    targetTokens: 14,
    overlapTokens: 0,
  });
  const otherFile = await fixture.newFile(other);
  await fixture.index({
    ...other,
    fileId: otherFile,
    generation: 1,
    document: sectionsDocument(['Another harbour, another dock.', 'Containers and a crane.']),
    targetTokens: 7,
    overlapTokens: 0,
  });
});

afterAll(async () => {
  await fixture?.close();
});

async function both(terms: string[], limit: number) {
  const input = { ...agent, terms, limit };
  const reader = fixture.inspector.reader;
  return { bounded: await bounded.search(reader, input), exact: await exact.search(reader, input) };
}

const texts = (rows: { text: string }[]) => rows.map((row) => row.text);

describe('the bounded SQLite query plan', () => {
  it('splits the terms by their frequency in the whole index', async () => {
    const plan = (terms: string[]) => boundedPlan(fixture.inspector.reader, terms, 3);
    expect(await plan(['crane', 'containers', 'ships'])).toEqual({
      expressions: [
        '{title body} : ("crane") AND {title body} : ("containers" OR "ships")',
        '{title body} : ("crane") NOT {title body} : ("containers" OR "ships")',
      ],
      exact: false,
    });
    expect(await plan(['another', 'dock'])).toEqual({
      expressions: ['{title body} : ("another" OR "dock")'],
      exact: true,
    });
    expect(await plan(['containers', 'ships'])).toEqual({
      expressions: ['{title body} : ("containers") AND {title body} : ("ships")'],
      exact: false,
    });
    expect(await plan(['zeppelin'])).toEqual({ expressions: [], exact: true });
  });

  it('ranks the rows with a rare term by their whole score, as the exact plan does', async () => {
    // "crane" is in 3 rows of the index (two of the agent's; within the budget: essential),
    // "containers" and "ships" in more (common).
    const answer = await both(['crane', 'containers', 'ships'], 2);
    expect(texts(answer.bounded)).toEqual([
      'The harbour crane lifts containers.',
      'A crane at the harbour lifts heavy containers onto ships.',
    ]);
    expect(answer.bounded).toEqual(answer.exact);
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
    expect(answer.bounded).toEqual(answer.exact);
  });

  it('answers with the exact plan when the bounded one finds fewer than the limit', async () => {
    // Only two of the agent's rows have "crane"; the third hit has only a common term.
    const answer = await both(['crane', 'yard'], 3);
    expect(answer.bounded).toHaveLength(3);
    expect(answer.bounded).toEqual(answer.exact);
    expect(answer.bounded.map((row) => row.file_id)).not.toContain(undefined);
  });

  it("never answers with another agent's rows, though they count in the frequencies", async () => {
    const answer = await both(['crane', 'harbour', 'another'], 5);
    expect(answer.bounded).toEqual(answer.exact);
    expect(texts(answer.bounded).some((text) => text.includes('Another'))).toBe(false);
  });
});
