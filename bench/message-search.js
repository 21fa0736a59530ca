import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { SearchService } from '../dist/features/search/search.service.js';
import { openDatabase } from '../dist/storage/kysely/database.js';
import { openStore } from '../dist/storage/store.js';
import { random, syntheticQuery, vocabulary } from './knowledge-corpus.js';
import { insertMessages, machine, openBenchTarget, seedAgent } from './lib/chat-rows.js';
import { runIfMain } from './lib/main.js';
import { fixed, markdownTable, summarize, whole } from './lib/stats.js';

/**
 * `npm run bench:message-search` (builds first): full-text search over stored chat messages
 * (docs/search.md), through SearchService (the routes' whole work — terms, the ranked statement,
 * the page's threads and highlighted snippets — without HTTP).
 *
 * The stored messages grow through each size of BENCH_SEARCH_SIZES (default 100,000 and
 * 1,000,000); at each size both searches run `queries` times: the organisation-wide search
 * (`GET /search/messages`, limit 20) and the agent's thread search (`GET …/threads/search`,
 * limit 20, with up to 3 snippets a thread). 90 % of the messages are the searching
 * organisation's (one agent, 500 threads), 10 % another organisation's, which the index must
 * skip. BENCH_SEARCH_DIALECTS (default `sqlite,postgres`), BENCH_SEARCH_QUERIES (200).
 *
 * Text: 6–40 pseudo-words a message, Zipf-distributed over 20,000 words (bench/knowledge-corpus.js),
 * so common words are very common; queries are questions of 2–5 content words below the 100
 * most common (the stop words' part), so a query's words are found in a few per cent of messages.
 */
const settings = {
  sizes: (process.env.BENCH_SEARCH_SIZES ?? '100000,1000000').split(',').map(Number),
  queries: Number(process.env.BENCH_SEARCH_QUERIES ?? 200),
  warmupQueries: 20,
  limit: 20,
  dialects: (process.env.BENCH_SEARCH_DIALECTS ?? 'sqlite,postgres').split(','),
  ownShare: 0.9,
};

export const benchmark = { name: 'message-search', deadlineMs: 3_600_000, run, render };

export async function run() {
  const words = vocabulary(20_000, 1);
  const results = [];
  for (const dialect of settings.dialects) {
    for (const entry of await runDialect(dialect, words)) {
      results.push(entry);
      console.log(`${dialect}: ${JSON.stringify(entry)}`);
    }
  }
  const result = { name: benchmark.name, settings, machine: machine(), results, failures: [] };
  console.log(`\n${render(result)}`);
  return result;
}

function messageText(words, index) {
  const next = random(index * 7_919 + 17);
  const length = 6 + Math.floor(next() * 35);
  return `${Array.from({ length }, () => words.draw(next)).join(' ')}.`;
}

async function runDialect(dialect, words) {
  const { target, drop } = await openBenchTarget(dialect, 'parley-message-search-');
  const store = await openStore(target);
  const database = openDatabase(target, { postgresPoolSize: 2 });
  const entries = [];
  try {
    const own = await seedAgent({ store, threads: 500, name: 'searching' });
    const other = await seedAgent({ store, threads: 50, name: 'neighbour' });
    const search = new SearchService(store);
    let stored = 0;
    let seedSeconds = 0;
    const firstMs = Date.now() - 10_000_000;
    for (const size of settings.sizes) {
      const ownCount = Math.round((size - stored) * settings.ownShare);
      const started = performance.now();
      for (const [scope, count, offset] of [
        [own, ownCount, stored],
        [other, size - stored - ownCount, stored + ownCount],
      ]) {
        await insertMessages({
          database,
          organizationId: scope.organizationId,
          threadIds: scope.threadIds,
          count,
          firstMs: firstMs + offset,
          content: (index) => messageText(words, offset + index),
        });
      }
      seedSeconds += (performance.now() - started) / 1000;
      // What autovacuum does after a bulk load, at once: without statistics PostgreSQL's plans for
      // the fresh rows were 7–10 times slower (measured at 100,000 messages).
      if (dialect === 'postgres') await sql`analyze`.execute(database.reader);
      stored = size;
      console.log(`${dialect}: ${whole(stored)} messages stored (${fixed(seedSeconds, 1)} s of inserts so far)`);
      const messages = await measure(
        (q) => search.messages({ organizationId: own.organizationId, q, limit: settings.limit, offset: 0 }),
        words,
      );
      const threads = await measure(
        (q) =>
          search.threads({
            organizationId: own.organizationId,
            agentId: own.agentId,
            q,
            limit: settings.limit,
            offset: 0,
          }),
        words,
      );
      entries.push({
        dialect,
        messages: stored,
        rowsPerSecond: stored / seedSeconds,
        messageSearch: messages,
        threadSearch: threads,
      });
    }
    return entries;
  } finally {
    await store.close();
    await database.close();
    await drop();
  }
}

async function measure(searchWith, words) {
  const latencies = [];
  let hits = 0;
  for (let index = 0; index < settings.warmupQueries + settings.queries; index += 1) {
    const q = syntheticQuery({ words, seed: 99_991 + index });
    const started = performance.now();
    const result = await searchWith(q);
    const elapsed = performance.now() - started;
    if (index >= settings.warmupQueries) {
      latencies.push(elapsed);
      hits += result.length;
    }
  }
  return { ...summarize(latencies), meanHits: hits / settings.queries };
}

export function render(result) {
  const header = [
    'dialect',
    'messages',
    'insert rows/s',
    'messages: p50 / p99 ms',
    'threads: p50 / p99 ms',
    'hits/query',
  ];
  const rows = result.results.map((entry) => [
    entry.dialect,
    whole(entry.messages),
    whole(entry.rowsPerSecond),
    `${fixed(entry.messageSearch.p50)} / ${fixed(entry.messageSearch.p99)}`,
    `${fixed(entry.threadSearch.p50)} / ${fixed(entry.threadSearch.p99)}`,
    `${fixed(entry.messageSearch.meanHits, 1)} / ${fixed(entry.threadSearch.meanHits, 1)}`,
  ]);
  return markdownTable(header, rows);
}

runIfMain(import.meta.url, benchmark);
