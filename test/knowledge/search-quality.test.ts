import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { embeddingInput } from '../../src/knowledge/chunk-rows.js';
import { createEmbeddingModel, type EmbeddingModel } from '../../src/knowledge/embeddings.js';
import { decodeEmbedding } from '../../src/knowledge/embeddings-codec.js';
import { StoredKnowledgeSearch } from '../../src/knowledge/stored-knowledge-search.js';
import { TEST_DIALECT } from '../helpers/test-database.js';
import {
  fakeEmbedding,
  startFakeEmbeddingsServer,
  type FakeEmbeddingsServer,
} from '../fixtures/fake-embeddings-server.js';
import { openChunkIndexFixture, sectionsDocument, type ChunkIndexFixture } from '../storage/file-chunks-fixture.js';
import {
  corpusFiles,
  CORPUS_QUERIES,
  describeFigures,
  HELD_OUT_QUERIES,
  indexCorpus,
  measureQuality,
} from './search-corpus.js';

let fixture: ChunkIndexFixture;
let agent: { organizationId: string; agentId: string };

beforeAll(async () => {
  fixture = await openChunkIndexFixture();
  agent = await fixture.newAgent();
  await indexCorpus({ fixture, ...agent });
});

afterAll(async () => {
  await fixture?.close();
});

describe(`search quality on the committed corpus (${TEST_DIALECT}, full text)`, () => {
  it('has at least 30 documents and 40 queries, each naming a document of the corpus', () => {
    expect(corpusFiles().length).toBeGreaterThanOrEqual(30);
    expect(CORPUS_QUERIES.length).toBeGreaterThanOrEqual(40);
    for (const query of [...CORPUS_QUERIES, ...HELD_OUT_QUERIES]) expect(corpusFiles()).toContain(query.file);
  });

  // The aim: 90 % first and the top 5 for all. Full text measures 51 of 56 (91.1 %) on both
  // databases, with the section heading as its own field, synonyms weighted 2 to a question
  // word's 3 and "tell" kept as a question's verb (docs/knowledge-search.md, "Quality"). The
  // misses are questions worded apart from their answer ("permissions" for "scopes").
  it('ranks the expected chunk first for at least 90 % of the queries and in the top 5 for all', async () => {
    const search = new StoredKnowledgeSearch({ store: fixture.store, embeddings: null });
    const figures = await measureQuality({ search, ...agent });
    console.log(describeFigures(`full text, ${TEST_DIALECT}`, figures));
    expect(figures.first / figures.queries).toBeGreaterThanOrEqual(0.9);
    expect(figures.inTopFive).toBe(figures.queries);
  });

  it('ranks the held-out questions (never tuned on) as well', async () => {
    const search = new StoredKnowledgeSearch({ store: fixture.store, embeddings: null });
    const figures = await measureQuality({ search, ...agent, queries: HELD_OUT_QUERIES });
    console.log(describeFigures(`held out, full text, ${TEST_DIALECT}`, figures));
    expect(figures.first / figures.queries).toBeGreaterThanOrEqual(0.9);
    expect(figures.inTopFive).toBe(figures.queries);
  });
});

describe(`search quality with embeddings fused (${TEST_DIALECT}, fake OpenAI-compatible provider)`, () => {
  let server: FakeEmbeddingsServer;
  let fused: { organizationId: string; agentId: string };
  let embeddings: EmbeddingModel;
  let indexingRequests: number;

  beforeAll(async () => {
    server = await startFakeEmbeddingsServer();
    const config = loadConfig({
      EMBEDDING_MODEL: 'openai-compatible:fake/hash-embed-1',
      OPENAI_COMPATIBLE_ENDPOINTS: `fake=${server.baseUrl}`,
    });
    embeddings = createEmbeddingModel(config.knowledge.embeddingModel!, config.models);
    fused = await fixture.newAgent();
    await indexCorpus({ fixture, ...fused, embeddings });
    indexingRequests = server.requests.length;
  });

  afterAll(async () => {
    await server?.close();
  });

  it('stores each chunk with the provider vector of its heading path and text, one request per document', async () => {
    expect(indexingRequests).toBe(corpusFiles().length);
    expect(new Set(server.requests.map((request) => request.model))).toEqual(new Set(['hash-embed-1']));
    const rows = await fixture.inspector.reader
      .selectFrom('file_chunks')
      .select(['text', 'heading_path', 'embedding'])
      .where('agent_id', '=', fused.agentId)
      .execute();
    expect(rows.length).toBe(server.requests.slice(0, indexingRequests).flatMap((request) => request.input).length);
    for (const row of rows) {
      const chunk = {
        text: row.text,
        headingPath: JSON.parse(row.heading_path) as string[],
        page: null,
        tokenCount: 0,
      };
      expect([...decodeEmbedding(row.embedding!)]).toEqual([...fakeEmbedding(embeddingInput({ chunk, title: null }))]);
    }
  });

  it('sends at most 64 texts a request when a document has more chunks', async () => {
    const before = server.requests.length;
    const fileId = await fixture.newFile(fused);
    const texts = Array.from({ length: 150 }, (_, index) => `Batch passage ${index}.`);
    await fixture.index({
      ...fused,
      fileId,
      generation: 1,
      document: sectionsDocument(texts),
      embeddings,
      targetTokens: 5,
      overlapTokens: 0,
    });
    expect(server.requests.slice(before).map((request) => request.input.length)).toEqual([64, 64, 22]);
    await fixture.inspector.write((db) => db.deleteFrom('agent_files').where('id', '=', fileId).execute());
  });

  it('embeds the query once, fuses, and ranks within one question of full text, all in the top 5', async () => {
    const search = new StoredKnowledgeSearch({ store: fixture.store, embeddings });
    const before = server.requests.length;
    const hits = await search.search({ ...fused, query: 'my espresso tastes sour', limit: 5 });
    expect(server.requests.slice(before)).toEqual([{ model: 'hash-embed-1', input: ['my espresso tastes sour'] }]);
    // Normalised RRF: 1 is first in both lists; first in one and second in the other is (1/61 + 1/62) / (2/61).
    expect([1, (1 / 61 + 1 / 62) / (2 / 61)]).toContain(hits[0]!.similarity);
    expect(hits[0]!.fileName).toBe('coffee-espresso.md');

    const fusedFigures = await measureQuality({ search, ...fused });
    const fullText = await measureQuality({
      search: new StoredKnowledgeSearch({ store: fixture.store, embeddings: null }),
      ...fused,
    });
    console.log(describeFigures(`fused, ${TEST_DIALECT}`, fusedFigures));
    const heldOut = await measureQuality({ search, ...fused, queries: HELD_OUT_QUERIES });
    console.log(describeFigures(`held out, fused, ${TEST_DIALECT}`, heldOut));
    // The fake provider is a hashed bag of words, a weaker ranker than full text now is: fusing it
    // may cost one question (SQLite: 50 fused against 51), never more.
    expect(fusedFigures.first).toBeGreaterThanOrEqual(fullText.first - 1);
    expect(fusedFigures.first / fusedFigures.queries).toBeGreaterThanOrEqual(0.87);
    expect(fusedFigures.inTopFive).toBe(fusedFigures.queries);
  });

  it('falls back to full text, logging once per search, when the provider fails at search time', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Pick<FastifyBaseLogger, 'warn'>;
    const search = new StoredKnowledgeSearch({ store: fixture.store, embeddings, logger });
    const fullTextOnly = new StoredKnowledgeSearch({ store: fixture.store, embeddings: null });
    server.failing = true;
    try {
      const query = { ...fused, query: 'how often should I water tomato plants', limit: 5 };
      const hits = await search.search(query);
      expect(hits.length).toBeGreaterThan(0);
      expect(hits).toEqual(await fullTextOnly.search(query));
      expect(warnings).toHaveLength(1);
    } finally {
      server.failing = false;
    }
  });
});
