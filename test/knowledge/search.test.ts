import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddingModel } from '../../src/knowledge/embeddings.js';
import { queryTerms } from '../../src/knowledge/query-terms.js';
import { StoredKnowledgeSearch } from '../../src/knowledge/stored-knowledge-search.js';
import { sqliteMatchExpression } from '../../src/storage/kysely/file-chunks-full-text.js';
import { random, randomText } from '../helpers/random.js';
import { openChunkIndexFixture, sectionsDocument, type ChunkIndexFixture } from '../storage/file-chunks-fixture.js';

let fixture: ChunkIndexFixture;
let agent: { organizationId: string; agentId: string };
let search: StoredKnowledgeSearch;

beforeAll(async () => {
  fixture = await openChunkIndexFixture();
  agent = await fixture.newAgent();
  search = new StoredKnowledgeSearch({ store: fixture.store, embeddings: null });
  const upload = await fixture.newFile({ ...agent, name: 'handbook.md' });
  await fixture.index({
    ...agent,
    fileId: upload,
    generation: 1,
    document: {
      title: 'Handbook',
      pageCount: 2,
      sections: [
        {
          headingPath: ['Handbook', 'Travel'],
          page: 1,
          text: 'Book trains through the travel desk. Flights need approval.',
        },
        { headingPath: ['Handbook', 'Travel'], page: 2, text: 'Hotels up to 150 euros a night are reimbursed.' },
        { headingPath: ['Handbook', 'Equipment'], page: 2, text: 'Laptops are replaced every three years.' },
      ],
    },
  });
  const page = await fixture.newFile({ ...agent, name: 'https://example.test/faq', source: 'url' });
  await fixture.index({
    ...agent,
    fileId: page,
    generation: 1,
    url: 'https://example.test/faq/trains',
    document: {
      title: 'Rail questions',
      pageCount: null,
      sections: [{ headingPath: [], page: null, text: 'Trains are preferred over flights.' }],
    },
  });
});

afterAll(async () => {
  await fixture?.close();
});

describe('StoredKnowledgeSearch (full text)', () => {
  it('returns hits with the file name, heading path, page, source and a similarity in 0..1, best first', async () => {
    const hits = await search.search({ ...agent, query: 'Which trains and flights need approval?', limit: 5 });
    expect(hits.map(({ similarity: _similarity, chunkId: _chunkId, fileId: _fileId, ...hit }) => hit)).toEqual([
      {
        fileName: 'handbook.md',
        text: 'Book trains through the travel desk. Flights need approval.',
        headingPath: ['Handbook', 'Travel'],
        page: 1,
        url: null,
        title: null,
      },
      {
        fileName: 'https://example.test/faq',
        text: 'Trains are preferred over flights.',
        headingPath: [],
        page: null,
        url: 'https://example.test/faq/trains',
        title: 'Rail questions',
      },
    ]);
    const similarities = hits.map((hit) => hit.similarity);
    expect(similarities).toEqual([...similarities].sort((left, right) => right - left));
    for (const similarity of similarities) expect(similarity).toBeGreaterThan(0);
    for (const similarity of similarities) expect(similarity).toBeLessThan(1);
  });

  it('finds a crawled page by its title and a passage by its headings', async () => {
    const byTitle = await search.search({ ...agent, query: 'rail', limit: 5 });
    expect(byTitle.map((hit) => hit.text)).toEqual(['Trains are preferred over flights.']);
    const byHeading = await search.search({ ...agent, query: 'equipment policy', limit: 5 });
    expect(byHeading.map((hit) => hit.text)).toEqual(['Laptops are replaced every three years.']);
  });

  it('honours the limit', async () => {
    expect(await search.search({ ...agent, query: 'trains flights hotels laptops', limit: 1 })).toHaveLength(1);
    expect(await search.search({ ...agent, query: 'trains flights hotels laptops', limit: 20 })).toHaveLength(4);
  });

  it('answers a query of stop words or syntax only with nothing, without asking the embedding model', async () => {
    const embeddings: EmbeddingModel = {
      id: 'test:never',
      embed: () => Promise.reject(new Error('the query should not be embedded')),
    };
    const hybrid = new StoredKnowledgeSearch({ store: fixture.store, embeddings });
    for (const query of ['what is it?', '"" * : ( ) AND OR NOT NEAR', '-', '   ', '^*']) {
      expect(queryTerms(query)).toEqual([]);
      expect(await search.search({ ...agent, query, limit: 5 })).toEqual([]);
      expect(await hybrid.search({ ...agent, query, limit: 5 })).toEqual([]);
    }
  });

  it('turns operators and quotes into plain terms in the FTS5 expression', () => {
    const terms = queryTerms('"trains" AND (flights OR NOT hotels*) NEAR/3 col:value ^start');
    expect(terms).toEqual(['trains', 'flights', 'hotels', 'col', 'value', 'start']);
    expect(sqliteMatchExpression({ agentId: '0b5e-77', terms: ['trains', 'flights'] })).toBe(
      'scope : "a0b5e77" AND {title heading body} : ("trains" OR "flights")',
    );
    // Weights 3 and 2 are written as 3 and 2 phrases; equal weights as one phrase each.
    expect(sqliteMatchExpression({ agentId: '0b5e-77', terms: ['trains', 'rail'], weights: [3, 2] })).toBe(
      'scope : "a0b5e77" AND {title heading body} : ("trains" OR "trains" OR "trains" OR "rail" OR "rail")',
    );
    expect(sqliteMatchExpression({ agentId: '0b5e-77', terms: ['trains', 'rail'], weights: [2, 2] })).toBe(
      'scope : "a0b5e77" AND {title heading body} : ("trains" OR "rail")',
    );
    expect(() => sqliteMatchExpression({ agentId: '0b5e-77', terms: ['trains'], weights: [5] })).toThrow(
      'a term weight is a whole number from 1 to 4',
    );
  });

  it('drops "tell" and "show" before "me" or "us", and keeps "tell" as the question\'s verb', () => {
    expect(queryTerms('what does the Retry-After header tell me')).toEqual(['retry', 'header']);
    expect(queryTerms('can you show us the parking rules')).toEqual(['parking', 'rules']);
    expect(queryTerms('I clicked a phishing link, who do I tell')).toEqual(['clicked', 'phishing', 'link', 'tell']);
  });

  it('never fails on queries made of either full-text syntax, words and unicode (fuzzed)', async () => {
    const next = random(20261201);
    const pieces = [
      '"',
      "'",
      '*',
      ':',
      '(',
      ')',
      '{',
      '}',
      '^',
      '-',
      '+',
      '|',
      '&',
      '!',
      '<->',
      '<2>',
      'AND',
      'OR',
      'NOT',
      'NEAR',
      'NEAR/2',
      ' ',
      ' ',
      'trains',
      'scope',
      'title',
      'body',
      'rowid',
      'ça',
      'ñ',
      '日本',
      '\u0301',
      '\u0000',
      '🦜',
      ';',
      '--',
      '\\',
      '%',
      '_',
      '.',
      ',',
    ];
    for (let round = 0; round < 300; round += 1) {
      const query = randomText(next, pieces, 14);
      const hits = await search.search({ ...agent, query, limit: 5 });
      expect(Array.isArray(hits)).toBe(true);
    }
  });
});

describe('StoredKnowledgeSearch (embeddings)', () => {
  /** One dimension per known word: a query and a passage are near when they share words. */
  const vocabulary = ['otter', 'beaver', 'river', 'dam', 'swim'];
  const embeddings: EmbeddingModel = {
    id: 'test:words',
    embed: async (texts) =>
      texts.map((text) => Float32Array.from(vocabulary.map((word) => (text.toLowerCase().includes(word) ? 1 : 0)))),
  };

  it('sees a re-index at the next search: the cache is keyed by file and generation', async () => {
    const owner = await fixture.newAgent();
    const fileId = await fixture.newFile({ ...owner, name: 'animals.md', ready_generation: 1, building_generation: 1 });
    await fixture.index({
      ...owner,
      fileId,
      generation: 1,
      embeddings,
      document: sectionsDocument(['Otters swim in the river.']),
    });
    const hybrid = new StoredKnowledgeSearch({ store: fixture.store, embeddings });
    const before = await hybrid.search({ ...owner, query: 'river otter', limit: 5 });
    expect(before.map((hit) => [hit.text, hit.similarity])).toEqual([['Otters swim in the river.', 1]]);

    await fixture.index({
      ...owner,
      fileId,
      generation: 2,
      embeddings,
      document: sectionsDocument(['Beavers build a dam.']),
    });
    await fixture.inspector.write((db) =>
      db
        .updateTable('agent_files')
        .set({ ready_generation: 2, building_generation: 2 })
        .where('id', '=', fileId)
        .execute(),
    );
    // "beaver dam" shares no indexed word with the old text: only the new generation's vector can match.
    const after = await hybrid.search({ ...owner, query: 'beaver dam', limit: 5 });
    expect(after.map((hit) => hit.text)).toEqual(['Beavers build a dam.']);
    const old = await hybrid.search({ ...owner, query: 'river otter', limit: 5 });
    expect(old.map((hit) => hit.text)).not.toContain('Otters swim in the river.');

    await fixture.inspector.write((db) =>
      db.updateTable('agent_files').set({ status: 'failed' }).where('id', '=', fileId).execute(),
    );
    expect(await hybrid.search({ ...owner, query: 'beaver dam', limit: 5 })).toEqual([]);
  });
});
