import { performance } from 'node:perf_hooks';
import { ThreadsService } from '../dist/features/threads/threads.service.js';
import { openDatabase } from '../dist/storage/kysely/database.js';
import { openStore } from '../dist/storage/store.js';
import { insertMessages, machine, openBenchTarget, seedAgent } from './lib/chat-rows.js';
import { runIfMain } from './lib/main.js';
import { fixed, markdownTable, summarize, whole } from './lib/stats.js';

/**
 * `npm run bench:cursor` (builds first): the message list of one 100,000-message thread, the first
 * page against the last, by OFFSET and by cursor (`after`), through ThreadsService.listMessages
 * (the route's whole read: the thread check, the cursor's lookup, the page and its tool calls
 * and feedback), without HTTP.
 *
 * Cases, limit 50: the first page (offset 0); the last page by offset (offset = count − 50); the
 * last page by cursor (after = the id of message count − 51); the page before the last message
 * (before = its id). The keyset cases take turns, one request each, for `rounds` rounds, in an
 * order that turns each round, so a load change on the machine touches every case alike; then the
 * deep OFFSET runs its `rounds` in the same run. Reported: p50/p99 latency, requests a second
 * (1 / mean latency) and the ratio of the first page's p50 to the case's (the throughput ratio
 * last/first at the median, which a few stalls of a loaded machine do not move) — keyset pages
 * aim at ≥ 0.8.
 *
 * BENCH_CURSOR_DIALECTS (default `sqlite,postgres`), BENCH_CURSOR_MESSAGES (100,000),
 * BENCH_CURSOR_ROUNDS (300).
 */
const settings = {
  messages: Number(process.env.BENCH_CURSOR_MESSAGES ?? 100_000),
  rounds: Number(process.env.BENCH_CURSOR_ROUNDS ?? 300),
  warmupRounds: 20,
  limit: 50,
  dialects: (process.env.BENCH_CURSOR_DIALECTS ?? 'sqlite,postgres').split(','),
};

export const benchmark = { name: 'cursor', deadlineMs: 1_800_000, run, render };

export async function run() {
  const results = [];
  const failures = [];
  for (const dialect of settings.dialects) {
    const entry = await runDialect(dialect, failures);
    results.push(entry);
    console.log(`${dialect}: ${JSON.stringify(entry)}`);
  }
  const result = { name: benchmark.name, settings, machine: machine(), results, failures };
  console.log(`\n${render(result)}`);
  return result;
}

async function runDialect(dialect, failures) {
  const { target, drop } = await openBenchTarget(dialect, 'parley-cursor-');
  const store = await openStore(target);
  const database = openDatabase(target, { postgresPoolSize: 2 });
  try {
    const { organizationId, agentId, threadIds } = await seedAgent({ store });
    const [threadId] = threadIds;
    const rowsPerSecond = await insertMessages({
      database,
      organizationId,
      threadIds,
      count: settings.messages,
      firstMs: Date.now() - settings.messages - 1000,
      content: (index) => `Message ${index} of the long thread: about as long as a short chat line.`,
    });
    console.log(`${dialect}: seeded ${whole(settings.messages)} messages, ${whole(rowsPerSecond)} rows/s`);
    const threads = new ThreadsService({ store, clock: { now: () => new Date() }, newId: () => '' });
    const scope = { organizationId, agentId, threadId, filterSuggestions: false };
    const list = (page) => threads.listMessages({ ...scope, page: { limit: settings.limit, offset: 0, ...page } });
    const all = await threads.listMessages({
      ...scope,
      page: { limit: 1, offset: settings.messages - settings.limit - 1 },
    });
    const lastOfPrevious = all[0].id;
    const last = (await list({ offset: settings.messages - 1 }))[0].id;
    const cases = {
      first: () => list({}),
      lastByOffset: () => list({ offset: settings.messages - settings.limit }),
      lastByCursor: () => list({ after: lastOfPrevious }),
      beforeLast: () => list({ before: last }),
    };
    const expected = await list({ offset: settings.messages - settings.limit });
    const byCursor = await cases.lastByCursor();
    if (JSON.stringify(byCursor) !== JSON.stringify(expected))
      failures.push(`${dialect}: the last page by cursor differs from the last page by offset`);
    const latencies = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    // The keyset cases take turns first; the deep OFFSET runs in a phase of its own after them,
    // because each of its pages walks 100,000 index entries, which disturbed whichever case came
    // next (measured: the cursor page's p50 1.5 times the first page's when interleaved).
    const { lastByOffset, ...keyset } = cases;
    for (const phase of [keyset, { lastByOffset }]) {
      for (let round = 0; round < settings.warmupRounds + settings.rounds; round += 1) {
        // The order turns each round, so a load change on the machine touches every case alike.
        const entries = Object.entries(phase);
        const turn = round % entries.length;
        for (const [name, call] of [...entries.slice(turn), ...entries.slice(0, turn)]) {
          const started = performance.now();
          const page = await call();
          const elapsed = performance.now() - started;
          if (page.length !== settings.limit) failures.push(`${dialect} ${name}: ${page.length} messages`);
          if (round >= settings.warmupRounds) latencies[name].push(elapsed);
        }
      }
    }
    const figures = Object.fromEntries(
      Object.entries(latencies).map(([name, values]) => {
        const summary = summarize(values);
        return [name, { ...summary, perSecond: 1000 / summary.mean }];
      }),
    );
    return {
      dialect,
      rowsPerSecond,
      ...figures,
      ratioCursor: figures.first.p50 / figures.lastByCursor.p50,
      ratioOffset: figures.first.p50 / figures.lastByOffset.p50,
    };
  } finally {
    await store.close();
    await database.close();
    await drop();
  }
}

export function render(result) {
  const header = ['dialect', 'page (limit 50)', 'p50 ms', 'p99 ms', 'req/s (1 / mean)', 'first page p50 ÷ p50'];
  const names = {
    first: 'first page (offset 0)',
    lastByOffset: `last page, offset ${whole(result.settings.messages - result.settings.limit)}`,
    lastByCursor: 'last page, after=<cursor>',
    beforeLast: 'before=<last message>',
  };
  const rows = result.results.flatMap((entry) =>
    Object.entries(names).map(([name, label]) => [
      entry.dialect,
      label,
      fixed(entry[name].p50),
      fixed(entry[name].p99),
      whole(entry[name].perSecond),
      fixed(entry.first.p50 / entry[name].p50),
    ]),
  );
  return markdownTable(
    header,
    rows,
    header.map((_, index) => index > 1),
  );
}

runIfMain(import.meta.url, benchmark);
