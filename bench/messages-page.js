import { randomBytes } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { makeTempDir } from './lib/children.js';
import { runIfMain } from './lib/main.js';
import { apiClient, startParley, stopParley } from './lib/parley.js';
import { fixed, markdownTable, textTable, whole } from './lib/stats.js';

/**
 * `GET …/messages` page latency, a 10-message thread vs a 100,000-message thread.
 *
 * Seeding 100,000 messages through the API would take minutes, so the threads are created
 * through the API and their messages written straight into the SQLite file while the server is
 * stopped, in one transaction, as the server itself stores them (schema.ts: JSON in text
 * columns, ISO-8601 UTC timestamps with milliseconds, time-ordered UUID v7 ids, the agent's
 * organisation). Then the server is started again and autocannon asks for pages.
 *
 * Rows: the first page (limit=50, offset=0), the first 10 messages (limit=10: the same payload
 * from both threads, so only the thread's size differs), and the last page (offset = count − 50,
 * i.e. 99,950 for the big thread). A deep OFFSET makes the database step over every row before
 * it, so the last page cannot stay flat: it is reported as its own row, not hidden.
 */

const settings = {
  smallCount: 10,
  largeCount: Number(process.env.BENCH_PAGE_MESSAGES ?? 100_000),
  connections: 10,
  warmupSeconds: 1,
  durationSeconds: Number(process.env.BENCH_PAGE_SECONDS ?? 5),
};

export const benchmark = { name: 'messages-page', deadlineMs: 150_000, run, render };

export async function run() {
  const failures = [];
  const directory = makeTempDir('parley-pages-');
  const databaseFile = path.join(directory, 'parley.db');
  let parley = await startParley({ databaseFile });
  const setup = apiClient(parley);
  const agent = await setup.createAgent({ model: 'demo' });
  const small = await setup.createThread(agent.id);
  const large = await setup.createThread(agent.id);
  const { apiKey } = parley;
  let stopped = await stopParley(parley);
  if (!stopped.clean) failures.push(`Parley did not stop cleanly before seeding: ${JSON.stringify(stopped)}`);

  const seedStarted = Date.now();
  seedMessages(databaseFile, small.id, settings.smallCount);
  seedMessages(databaseFile, large.id, settings.largeCount);
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  console.log(
    `messages page: seeded ${whole(settings.smallCount)} + ${whole(settings.largeCount)} messages in ${fixed(seedSeconds, 1)} s`,
  );

  // The bootstrap key is printed only at first start: the restarted server is reached with the same one.
  parley = await startParley({ databaseFile, apiKey });
  const api = apiClient(parley);
  const route = (thread, query) => `/api/v1/chat/${agent.id}/threads/${thread.id}/messages?${query}`;
  const lastOffset = (count) => Math.max(0, count - 50);
  const cases = [
    {
      page: 'first page, limit=50, offset=0',
      query: () => 'limit=50&offset=0',
      expect: (count) => Math.min(50, count),
    },
    { page: 'first 10, limit=10, offset=0', query: () => 'limit=10&offset=0', expect: (count) => Math.min(10, count) },
    {
      page: 'last page, limit=50, offset=count−50',
      query: (count) => `limit=50&offset=${lastOffset(count)}`,
      expect: (count) => Math.min(50, count),
    },
  ];
  const rows = [];
  for (const pageCase of cases) {
    const figures = {};
    for (const [size, thread, count] of [
      ['small', small, settings.smallCount],
      ['large', large, settings.largeCount],
    ]) {
      const url = route(thread, pageCase.query(count));
      // The page must hold what the query asks for, or the figures measure the wrong thing.
      const page = await api.listMessages(agent.id, thread.id, `?${pageCase.query(count)}`);
      if (page.length !== pageCase.expect(count))
        failures.push(`${size} thread, ${pageCase.page}: ${page.length} messages, expected ${pageCase.expect(count)}`);
      figures[size] = await load(`${parley.baseUrl}${url}`, apiKey);
      figures[size].query = pageCase.query(count);
      figures[size].messages = page.length;
      for (const problem of figures[size].problems) failures.push(`${size} thread, ${pageCase.page}: ${problem}`);
      console.log(
        `  ${pageCase.page}, ${whole(count)} messages: ${whole(figures[size].requestsPerSecond)} req/s, p50 ${figures[size].p50} ms, p99 ${figures[size].p99} ms`,
      );
    }
    rows.push({ page: pageCase.page, ...figures });
  }
  stopped = await stopParley(parley);
  if (!stopped.clean) failures.push(`Parley did not stop cleanly: ${JSON.stringify(stopped)}`);

  const result = { name: benchmark.name, settings, seedSeconds, rows, failures };
  console.log(`\n${textTable(...tableOf(result))}`);
  return result;
}

/** Appends `count` messages to a thread, alternating user and assistant, one millisecond apart. */
export function seedMessages(databaseFile, threadId, count) {
  const db = new Database(databaseFile);
  try {
    const thread = db.prepare('SELECT organization_id FROM chat_threads WHERE id = ?').get(threadId);
    if (!thread) throw new Error(`thread ${threadId} is not in the database`);
    const insert = db.prepare(
      `INSERT INTO chat_messages (id, organization_id, thread_id, role, content, content_html, attachments, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?)`,
    );
    // Timestamps end just before now, so the seeded history is older than anything added later.
    const firstMs = Date.now() - count - 1000;
    db.transaction(() => {
      for (let index = 0; index < count; index += 1) {
        const createdMs = firstMs + index;
        const message = index % 2 === 0 ? userMessage(index) : assistantMessage(index);
        insert.run(
          uuidV7(createdMs),
          thread.organization_id,
          threadId,
          message.role,
          message.content,
          message.contentHtml,
          JSON.stringify(message.metadata),
          new Date(createdMs).toISOString(),
        );
      }
      const lastAt = new Date(firstMs + count - 1).toISOString();
      db.prepare('UPDATE chat_threads SET updated_at = ? WHERE id = ?').run(lastAt, threadId);
    })();
  } finally {
    db.close();
  }
}

function userMessage(index) {
  return {
    role: 'user',
    content: `Question ${index}: what does the benchmark measure here?`,
    contentHtml: null,
    metadata: {},
  };
}

/** A reply shaped like the runtime's: Markdown text, its HTML, and the run's metadata. */
function assistantMessage(index) {
  const content = `Answer ${index}: the page latency of a long thread. This is a seeded reply of about the length of a short chat answer, with **some** Markdown in it.`;
  const runId = uuidV7(Date.now());
  return {
    role: 'assistant',
    content,
    contentHtml: `<p>${content.replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')}</p>\n`,
    metadata: {
      run_id: runId,
      flow_execution_id: runId,
      model: 'demo',
      usage: { input_tokens: 12, output_tokens: 30, total_tokens: 42 },
      finish_reason: 'stop',
      status: 'completed',
    },
  };
}

/** A UUID v7 for a given millisecond: ids sort like the rows' times, as the server's do. */
function uuidV7(milliseconds) {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(milliseconds, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A warm-up run (discarded), then the measured one. Any non-2xx answer or socket error is a problem. */
async function load(url, apiKey) {
  const options = { url, headers: { 'x-api-key': apiKey }, connections: settings.connections, pipelining: 1 };
  await autocannon({ ...options, duration: settings.warmupSeconds });
  const result = await autocannon({ ...options, duration: settings.durationSeconds });
  const problems = [];
  if (result.non2xx > 0) problems.push(`${result.non2xx} non-2xx answers`);
  if (result.errors > 0) problems.push(`${result.errors} errors (${result.timeouts} timeouts)`);
  if (result['2xx'] === 0) problems.push('no 2xx answer at all');
  return {
    requestsPerSecond: result.requests.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    meanMs: result.latency.mean,
    bytesPerResponse: result['2xx'] > 0 ? result.throughput.total / result['2xx'] : null,
    problems,
  };
}

function tableOf(result) {
  const { smallCount, largeCount } = result.settings;
  const header = [
    'page',
    `${whole(smallCount)} msgs: req/s`,
    'p50 / p99 ms',
    `${whole(largeCount)} msgs: req/s`,
    'p50 / p99 ms',
    'ratio req/s (large / small)',
    'ratio mean latency',
  ];
  const rows = result.rows.map(({ page, small, large }) => [
    page,
    whole(small.requestsPerSecond),
    `${small.p50} / ${small.p99}`,
    whole(large.requestsPerSecond),
    `${large.p50} / ${large.p99}`,
    fixed(large.requestsPerSecond / small.requestsPerSecond),
    fixed(large.meanMs / small.meanMs),
  ]);
  return [header, rows];
}

export function render(result) {
  const { settings: s } = result;
  const [first, firstTen, last] = result.rows;
  return [
    `### \`GET …/messages\` page latency: ${whole(s.smallCount)}-message thread vs ${whole(s.largeCount)}-message thread`,
    '',
    `Two threads of one agent, seeded straight into the SQLite file with the server stopped (${whole(s.smallCount)} and ` +
      `${whole(s.largeCount)} messages, alternating user/assistant, rows shaped as the server writes them; ` +
      `${fixed(result.seedSeconds, 1)} s). Then autocannon, ${s.connections} connections, ${s.warmupSeconds} s warm-up ` +
      `(discarded), ${s.durationSeconds} s measured per row and thread. **Baseline:** the ${whole(s.smallCount)}-message ` +
      'thread. Latencies are autocannon’s, in whole milliseconds; the ratios use req/s and the mean latency, which are ' +
      'not rounded.',
    '',
    markdownTable(...tableOf(result)),
    '',
    `The first page of the big thread runs at ${fixed(first.large.requestsPerSecond / first.small.requestsPerSecond)} × ` +
      `the small thread's rate (it returns ${first.large.messages} messages against ${first.small.messages}); with the same ` +
      `payload (limit=10) at ${fixed(firstTen.large.requestsPerSecond / firstTen.small.requestsPerSecond)} ×. ` +
      `The last page (\`${last.large.query}\`) runs at ${fixed(last.large.requestsPerSecond / last.small.requestsPerSecond)} × — ` +
      'a deep OFFSET is linear by nature: the database walks every row it skips. Clients that page through long ' +
      'threads should not expect a deep offset to be as fast as the first page.',
  ].join('\n');
}

runIfMain(import.meta.url, benchmark);
