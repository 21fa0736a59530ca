import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeTempDir } from './lib/children.js';
import { runIfMain } from './lib/main.js';
import { createBenchDatabase } from './lib/postgres.js';
import { fixed, markdownTable, summarize, whole } from './lib/stats.js';
import { chunkDocument } from '../dist/knowledge/chunk.js';
import { chunkRows } from '../dist/knowledge/chunk-rows.js';
import { StoredKnowledgeSearch } from '../dist/knowledge/stored-knowledge-search.js';
import { openDatabase } from '../dist/storage/kysely/database.js';
import { openStore } from '../dist/storage/store.js';
import { knowledgeFile, syntheticDocument, syntheticQuery, vocabulary } from './knowledge-corpus.js';

/**
 * `npm run bench:knowledge` (builds first): the chunk index on SQLite and PostgreSQL.
 *
 * - Indexing throughput: MB of extracted text a second through chunkDocument + chunkRows + the
 *   store's insertMany (one write unit per document, no embeddings), for the first 10,000 chunks.
 * - Full-text search latency (StoredKnowledgeSearch, limit 5) over 10,000 and then 100,000 chunks
 *   of one agent, with 20,000 chunks of two other agents in the same index; the ratio
 *   p99(100k) / p99(10k) is the in-run baseline comparison.
 * - BENCH_KNOWLEDGE_DIALECTS (default `sqlite,postgres`), BENCH_KNOWLEDGE_CHUNKS (100,000),
 *   BENCH_KNOWLEDGE_QUERIES (300).
 * - With BENCH_KNOWLEDGE_VECTORS=1 (SQLite only): the cosine path over the agent's 100,000 chunks,
 *   384-dimensional vectors, the first search (decodes every blob into the cache) and warm ones.
 *
 * Text is synthetic (knowledge-corpus.js): words drawn from a Zipf distribution over a 20,000-word
 * vocabulary, so the text has a natural spread of common and rare words; queries draw content
 * words only (below the 100 most common, which play the stop words' part), so a query often has a
 * word found in a tenth of all chunks.
 */

const settings = {
  smallChunks: 10_000,
  largeChunks: Number(process.env.BENCH_KNOWLEDGE_CHUNKS ?? 100_000),
  otherAgentChunks: 20_000,
  queries: Number(process.env.BENCH_KNOWLEDGE_QUERIES ?? 300),
  warmupQueries: 30,
  chunking: { targetTokens: 150, overlapTokens: 20 },
  vectors: process.env.BENCH_KNOWLEDGE_VECTORS === '1',
  dialects: (process.env.BENCH_KNOWLEDGE_DIALECTS ?? 'sqlite,postgres').split(','),
  dimensions: 384,
};

export const benchmark = { name: 'knowledge', deadlineMs: 3_600_000, run, render };

export async function run() {
  const words = vocabulary(20_000, 1);
  const results = [];
  for (const dialect of settings.dialects) {
    const entry = await runDialect({ dialect, words });
    results.push(entry);
    // Each dialect's figures as soon as they exist: PostgreSQL takes several times longer.
    console.log(`${dialect}: ${JSON.stringify(entry)}`);
  }
  const result = { settings, machine: machine(), results, failures: [] };
  console.log(render(result));
  return result;
}

async function openTarget(dialect) {
  if (dialect === 'sqlite') {
    const directory = makeTempDir('parley-knowledge-');
    return { target: { kind: 'sqlite', filename: path.join(directory, 'parley.db') }, drop: async () => {} };
  }
  const database = await createBenchDatabase();
  return { target: { kind: 'postgres', connectionString: database.url }, drop: database.drop };
}

async function runDialect({ dialect, words }) {
  const { target, drop } = await openTarget(dialect);
  const store = await openStore(target);
  const files = openDatabase(target, { postgresPoolSize: 2 });
  try {
    const organizationId = randomUUID();
    await store.write((writers) =>
      writers.organizations.ensure({
        id: organizationId,
        name: `bench-${organizationId}`,
        now: new Date().toISOString(),
      }),
    );
    const agentOf = () => newAgent({ store, organizationId });
    const [agentId, ...others] = [await agentOf(), await agentOf(), await agentOf()];
    const indexer = { store, files, organizationId, words, seed: 7 };

    const indexing = await indexUntil({ ...indexer, agentId, chunks: settings.smallChunks });
    console.log(`${dialect}: indexed ${indexing.chunks} chunks, ${indexing.mbPerSecond.toFixed(2)} MB/s`);
    for (const other of others)
      await indexUntil({ ...indexer, agentId: other, chunks: settings.otherAgentChunks / 2, seed: 11 });
    const search = new StoredKnowledgeSearch({ store, embeddings: null });
    const small = await measureSearch({ search, organizationId, agentId, words });
    console.log(`${dialect}: 10k search p50 ${small.p50.toFixed(2)} ms, p99 ${small.p99.toFixed(2)} ms`);
    await indexUntil({ ...indexer, agentId, chunks: settings.largeChunks - settings.smallChunks, seed: 13 });
    const large = await measureSearch({ search, organizationId, agentId, words });
    const vectors = settings.vectors && dialect === 'sqlite' ? await measureVectors({ ...indexer, agentId }) : null;
    if (vectors) console.log(`vectors (${dialect}): ${JSON.stringify(vectors)}`);
    return { dialect, indexing, small, large, ratioP99: large.p99 / small.p99, vectors };
  } finally {
    await store.close();
    await files.close();
    await drop();
  }
}

async function newAgent({ store, organizationId }) {
  const now = new Date().toISOString();
  const agent = await store.write((writers) =>
    writers.agents.insert({
      id: randomUUID(),
      organization_id: organizationId,
      template_id: '00000000-0000-0000-0000-000000000000',
      name: 'bench agent',
      description: null,
      avatar_url: null,
      configuration: {},
      metadata: {},
      status: 'active',
      team_id: null,
      bot_sub: randomUUID(),
      created_at: now,
      updated_at: now,
    }),
  );
  return agent.id;
}

/** Indexes synthetic documents (about 100 chunks each) for the agent until `chunks` are added. */
async function indexUntil({ store, files, organizationId, agentId, chunks, words, seed, embeddings = null }) {
  let added = 0;
  let textBytes = 0;
  let elapsedMs = 0;
  for (let documentIndex = 0; added < chunks; documentIndex += 1) {
    const fileId = randomUUID();
    await files.write((db) =>
      db
        .insertInto('agent_files')
        .values(knowledgeFile({ id: fileId, organizationId, agentId }))
        .execute(),
    );
    const document = syntheticDocument({ words, seed: seed * 1_000_003 + documentIndex, sections: 120 });
    const started = performance.now();
    const documentChunks = chunkDocument(document, settings.chunking).slice(0, chunks - added);
    const rows = await chunkRows({
      organizationId,
      agentId,
      fileId,
      generation: 1,
      firstOrdinal: 0,
      chunks: documentChunks,
      url: null,
      title: null,
      embeddings,
      newId: randomUUID,
      now: new Date(),
    });
    await store.write((writers) => writers.fileChunks.insertMany(rows));
    elapsedMs += performance.now() - started;
    // As marking the file ready does (PostgreSQL's search reads the agent's chunk count from it).
    await files.write((db) =>
      db.updateTable('agent_files').set({ chunk_count: rows.length }).where('id', '=', fileId).execute(),
    );
    added += rows.length;
    for (const chunk of documentChunks) textBytes += Buffer.byteLength(chunk.text);
  }
  return {
    chunks: added,
    textMB: textBytes / 1e6,
    seconds: elapsedMs / 1000,
    mbPerSecond: textBytes / 1e6 / (elapsedMs / 1000),
  };
}

async function measureSearch({ search, organizationId, agentId, words }) {
  const latencies = [];
  let hits = 0;
  for (let index = 0; index < settings.warmupQueries + settings.queries; index += 1) {
    const query = syntheticQuery({ words, seed: 99_991 + index });
    const started = performance.now();
    const result = await search.search({ organizationId, agentId, query, limit: 5 });
    const elapsed = performance.now() - started;
    if (index >= settings.warmupQueries) {
      latencies.push(elapsed);
      hits += result.length;
    }
  }
  return { ...summarize(latencies), meanHits: hits / settings.queries };
}

/**
 * Gives every chunk of the agent its own vector (written straight over the column: indexing with
 * embeddings is the provider's cost, not measured here), then times hybrid searches whose
 * query embedding is in-process: the first (decodes every blob into the cache) and warm ones.
 */
async function measureVectors({ store, files, organizationId, agentId, words }) {
  const chunks = await files.reader.selectFrom('file_chunks').select('id').where('agent_id', '=', agentId).execute();
  for (let start = 0; start < chunks.length; start += 1000) {
    await files.write(async (db) => {
      for (const [offset, { id }] of chunks.slice(start, start + 1000).entries()) {
        const seed = start + offset;
        const vector = Float32Array.from({ length: settings.dimensions }, (_, index) =>
          Math.sin(seed * 7.1 + index * 1.3),
        );
        await db
          .updateTable('file_chunks')
          .set({ embedding: new Uint8Array(vector.buffer) })
          .where('id', '=', id)
          .execute();
      }
    });
  }
  let calls = 0;
  const embeddings = {
    id: 'bench:in-process',
    embed: async (texts) =>
      texts.map(() => Float32Array.from({ length: settings.dimensions }, (_, index) => Math.cos(index + calls++))),
  };
  const search = new StoredKnowledgeSearch({ store, embeddings });
  const coldStarted = performance.now();
  await search.search({ organizationId, agentId, query: syntheticQuery({ words, seed: 1 }), limit: 5 });
  const coldMs = performance.now() - coldStarted;
  const warm = await measureSearch({ search, organizationId, agentId, words });
  return {
    coldMs,
    warm,
    heapMB: process.memoryUsage().heapUsed / 1e6,
    arrayBuffersMB: process.memoryUsage().arrayBuffers / 1e6,
  };
}

function machine() {
  return {
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGB: Math.round(os.totalmem() / 1e9),
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function render(result) {
  const header = [
    'dialect',
    'indexing MB/s',
    'p50 / p99 ms, 10k',
    'p50 / p99 ms, 100k',
    'p99 ratio 100k / 10k',
    'hits/query',
  ];
  const rows = result.results.map((entry) => [
    entry.dialect,
    `${fixed(entry.indexing.mbPerSecond)} (${fixed(entry.indexing.textMB, 1)} MB, ${whole(entry.indexing.chunks)} chunks)`,
    `${fixed(entry.small.p50)} / ${fixed(entry.small.p99)}`,
    `${fixed(entry.large.p50)} / ${fixed(entry.large.p99)}`,
    fixed(entry.ratioP99),
    fixed(entry.large.meanHits, 1),
  ]);
  return markdownTable(header, rows);
}

runIfMain(import.meta.url, benchmark);
