import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeTempDir, stableRssKiB, startRssSampler } from './lib/children.js';
import { replaceSection, runRecord } from './lib/doc-section.js';
import { requestJson } from './lib/http-json.js';
import { runIfMain } from './lib/main.js';
import { BLANK_TEMPLATE_ID, ROOT, liveHeap, startParley, stopParley } from './lib/parley.js';
import { fixed, markdownTable, whole } from './lib/stats.js';
import { openStore } from '../dist/storage/store.js';

/**
 * `npm run bench:feedback-export` (builds first): `GET /api/v1/feedback/export` of 100,000
 * ratings against 1,000, on a Parley server in its own process (SQLite), in both formats.
 *
 * - Peak RSS growth of the server while it exports: its settled RSS before, the peak sampled
 *   every 10 ms during the export; the ratio growth(100,000) / growth(1,000) is the figure that
 *   says whether memory follows the batch (about 1) or the row count (about 100).
 * - Rows per second, as the client receives them (it reads and counts every line).
 * - The 1,000 rows are the newest (`from=`), so both exports read the same index the same way;
 *   one export of each format runs first, unmeasured, so the first measured one pays no warm-up.
 * - BENCH_FEEDBACK_ROWS (default 100,000) and BENCH_FEEDBACK_SMALL_ROWS (1,000).
 */

const settings = {
  rows: Number(process.env.BENCH_FEEDBACK_ROWS ?? 100_000),
  smallRows: Number(process.env.BENCH_FEEDBACK_SMALL_ROWS ?? 1_000),
  commentBytes: 200,
  sampleMs: 10,
};
const DOC = path.join(ROOT, 'docs', 'performance.md');

export const benchmark = { name: 'feedback-export', deadlineMs: 1_800_000, run, render };

export async function run() {
  const started = new Date();
  const loadBefore = os.loadavg()[0];
  const directory = makeTempDir('parley-feedback-export-');
  const databaseFile = path.join(directory, 'parley.db');
  const parley = await startParley({ name: 'parley-feedback-export', databaseFile, heapSnapshots: true });
  const failures = [];
  const measurements = [];
  const heaps = [];
  try {
    const { base } = await seed({ parley, databaseFile });
    const small = `from=${new Date(base + settings.rows - settings.smallRows).toISOString()}`;
    for (const format of ['jsonl', 'csv']) {
      await exportOnce({ parley, format, query: small, expected: settings.smallRows });
      for (const [rows, query] of [
        [settings.smallRows, small],
        [settings.rows, ''],
      ]) {
        const measured = await exportOnce({ parley, format, query, expected: rows });
        if (measured.lines !== rows) failures.push(`${format} ${rows}: received ${measured.lines} rows`);
        measurements.push({ format, ...measured });
        console.log(JSON.stringify(measurements.at(-1)));
      }
    }
    // Heap snapshots last: each makes the server's RSS jump.
    const atRest = await liveHeap(parley);
    for (const [rows, query] of [
      [settings.smallRows, small],
      [settings.rows, ''],
    ]) {
      const during = await heapMidExport({ parley, query, pauseAfter: rows / 2 });
      heaps.push({ rows, atRestMiB: atRest.bytes / 1024 ** 2, midExportMiB: during.bytes / 1024 ** 2 });
      console.log(JSON.stringify(heaps.at(-1)));
    }
  } finally {
    const stopped = await stopParley(parley);
    if (!stopped.clean) failures.push(`server stop: ${JSON.stringify(stopped)}`);
  }
  const record = runRecord({ started, loadBefore, root: ROOT, results: measurements });
  const result = { settings, ...record, heaps, failures };
  console.log(render(result));
  if (failures.length === 0) replaceSection({ file: DOC, name: 'feedback-export', body: render(result) });
  return result;
}

/** An agent, a thread with one answer, and `settings.rows` ratings of it, one a millisecond, newest last. */
async function seed({ parley, databaseFile }) {
  const headers = { 'x-api-key': parley.apiKey };
  const agent = await requestJson({
    url: `${parley.baseUrl}/api/v1/agents`,
    method: 'POST',
    headers,
    body: { name: 'Export bench', configuration: {}, template_id: BLANK_TEMPLATE_ID },
  });
  const thread = await requestJson({
    url: `${parley.baseUrl}/api/v1/chat/${agent.json.id}/threads`,
    method: 'POST',
    headers,
    body: { agent_id: agent.json.id, title: 'Export bench', metadata: {} },
  });
  const reply = await requestJson({
    url: `${parley.baseUrl}/api/v1/chat/${agent.json.id}/threads/${thread.json.id}/messages`,
    method: 'POST',
    headers,
    body: { role: 'user', content: 'How do I export my feedback, with commas, "quotes" and =formulas?' },
    timeoutMs: 60_000,
  });
  if (reply.status !== 200) throw new Error(`reply: ${reply.status} ${reply.text}`);
  // The ratings go straight into the server's database file (WAL: it reads them at once).
  const store = await openStore({ kind: 'sqlite', filename: databaseFile });
  const base = Date.parse('2026-01-01T00:00:00.000Z');
  try {
    for (let start = 0; start < settings.rows; start += 5_000) {
      await store.write(async (writers) => {
        for (let index = start; index < Math.min(settings.rows, start + 5_000); index += 1) {
          const at = new Date(base + index).toISOString();
          await writers.messages.insertFeedback({
            id: randomUUID(),
            organization_id: agent.json.organization_id,
            thread_id: thread.json.id,
            user_id: randomUUID(),
            human_message_id: null,
            ai_message_id: reply.json.id,
            flow_execution_id: reply.json.metadata.run_id,
            feedback_type: index % 3 === 0 ? 'negative' : 'positive',
            issue_type: index % 3 === 0 ? 'wrong_answer' : null,
            comment: `${index % 7 === 0 ? '=' : ''}Rating ${index}, "quoted": ${'x'.repeat(settings.commentBytes)}`,
            created_at: at,
            updated_at: at,
          });
        }
      });
    }
  } finally {
    await store.close();
  }
  return { base };
}

/** One export read to its end: rows received, rows per second, and the server's RSS growth. */
async function exportOnce({ parley, format, query, expected }) {
  const before = await stableRssKiB(parley.pid, { intervalMs: 200, window: 4, toleranceKiB: 256 });
  const sampler = startRssSampler(parley.pid, settings.sampleMs);
  const startedAt = performance.now();
  const response = await fetch(`${parley.baseUrl}/api/v1/feedback/export?format=${format}&${query}`, {
    headers: { 'x-api-key': parley.apiKey },
  });
  if (response.status !== 200) throw new Error(`export: ${response.status} ${await response.text()}`);
  let lines = 0;
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of response.body) {
    chunks += 1;
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 0x0a) lines += 1;
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const { peakKiB } = sampler.stop();
  // CSV: the header line, and a comment's own line breaks (none here).
  const rows = format === 'csv' ? lines - 1 : lines;
  return {
    rows: expected,
    lines: rows,
    chunks,
    megabytes: bytes / 1024 ** 2,
    seconds,
    rowsPerSecond: rows / seconds,
    rssBeforeMiB: before.kib / 1024,
    rssGrowthMiB: Math.max(0, peakKiB - before.kib) / 1024,
  };
}

/**
 * The server's live heap (a snapshot, after a full collection) while a JSON Lines export stands
 * half read: the client stops reading after `pauseAfter` lines, so the server holds what an
 * export in progress holds; then it reads the rest.
 */
async function heapMidExport({ parley, query, pauseAfter }) {
  const response = await fetch(`${parley.baseUrl}/api/v1/feedback/export?format=jsonl&${query}`, {
    headers: { 'x-api-key': parley.apiKey },
  });
  const reader = response.body.getReader();
  let lines = 0;
  let heap = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const byte of value) if (byte === 0x0a) lines += 1;
    if (heap === null && lines >= pauseAfter) heap = await liveHeap(parley);
  }
  return heap;
}

export function render(result) {
  const rows = result.results.map((entry) => [
    entry.format,
    whole(entry.rows),
    fixed(entry.megabytes, 1),
    whole(entry.chunks),
    fixed(entry.seconds, 2),
    whole(entry.rowsPerSecond),
    fixed(entry.rssBeforeMiB, 1),
    fixed(entry.rssGrowthMiB, 1),
  ]);
  const ratios = ['jsonl', 'csv'].map((format) => {
    const [small, large] = result.results.filter((entry) => entry.format === format);
    // A growth below 1 MiB is sampling noise: the ratio uses 1 MiB then.
    const ratio = Math.max(1, large.rssGrowthMiB) / Math.max(1, small.rssGrowthMiB);
    return `${format}: ${fixed(ratio, 2)}`;
  });
  return [
    '## Feedback export',
    '',
    `\`GET /api/v1/feedback/export\` of ${whole(result.settings.rows)} ratings against ${whole(result.settings.smallRows)}, each with its conversation (the rated answer and the thread), from a Parley server in its own process on SQLite; the client reads every line. RSS is the server's: settled before the export, peak sampled every ${result.settings.sampleMs} ms during it.`,
    '',
    markdownTable(
      ['format', 'rows', 'MB sent', 'chunks read', 'seconds', 'rows/s', 'RSS before (MiB)', 'peak RSS growth (MiB)'],
      rows,
    ),
    '',
    `Peak RSS growth, ${whole(result.settings.rows)} rows / ${whole(result.settings.smallRows)} rows (growths under 1 MiB counted as 1 MiB): ${ratios.join(', ')}.`,
    '',
    'Live heap of the server (a heap snapshot, taken after a full collection) at rest, and while a JSON Lines export stands half read (the client stops reading; the server waits on the socket):',
    '',
    markdownTable(
      ['export', 'live heap at rest (MiB)', 'live heap mid-export (MiB)', 'held by the export (MiB)'],
      result.heaps.map((entry) => [
        `${whole(entry.rows)} rows`,
        fixed(entry.atRestMiB, 1),
        fixed(entry.midExportMiB, 1),
        fixed(entry.midExportMiB - entry.atRestMiB, 1),
      ]),
    ),
    '',
    `Measured ${result.startedAt} on ${result.machine}, code ${result.code}; load average ${fixed(result.loadAverage.before, 2)} before, ${fixed(result.loadAverage.after, 2)} after (other work shared the machine).`,
  ].join('\n');
}

runIfMain(import.meta.url, benchmark);
