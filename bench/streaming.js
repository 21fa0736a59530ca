import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as concurrentStreams from './concurrent-streams.js';
import * as idleStreams from './idle-streams.js';
import { replaceSection, runRecord } from './lib/doc-section.js';
import { fixed, markdownTable, whole } from './lib/stats.js';
import * as messagesPage from './messages-page.js';
import * as streamingOverhead from './streaming-overhead.js';

/**
 * Runs the streaming benchmarks one after another, each in its own process (its own event loop,
 * file limit and memory; a crash or hang in one cannot take the others down), then writes the
 * "Streaming" section of docs/performance.md and bench/results/streaming-latest.json.
 *
 * Usage: `npm run bench:streaming` (builds first), or `node bench/streaming.js [name…]` to run
 * only some of them. Exits 1 if a benchmark failed or one of its checks did; an aim not met is a
 * finding, not a failure.
 */

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const DOC = path.join(ROOT, 'docs', 'performance.md');
const RESULTS = path.join(BENCH_DIR, 'results', 'streaming-latest.json');

const BENCHMARKS = [
  { file: 'streaming-overhead.js', module: streamingOverhead },
  { file: 'concurrent-streams.js', module: concurrentStreams },
  { file: 'idle-streams.js', module: idleStreams },
  { file: 'messages-page.js', module: messagesPage },
];

/** The child being run, so a signal to the runner reaches it (it runs in its own process group). */
let current = null;
let temporaryRoot = null;
/** Set by SIGINT/SIGTERM: no further benchmark starts, and nothing is written. */
let interrupted = null;

async function main() {
  const only = process.argv.slice(2);
  const selected = BENCHMARKS.filter(({ module }) => only.length === 0 || only.includes(module.benchmark.name));
  if (selected.length === 0) throw new Error(`no benchmark named ${only.join(', ')}`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build');
  installSignalHandlers();
  temporaryRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-streaming-'));
  const started = new Date();
  const loadBefore = os.loadavg()[0];
  const results = [];
  try {
    for (const { file, module } of selected) {
      console.log(`\n=== ${module.benchmark.name} ===`);
      results.push(await runOne(file, module.benchmark));
      if (interrupted) throw new Error(`interrupted by ${interrupted}; nothing written`);
    }
  } finally {
    fs.rmSync(temporaryRoot, { recursive: true, force: true });
  }
  const run = runRecord({ started, loadBefore, root: ROOT, results: results });
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(run, null, 2));
  replaceSection({ file: DOC, name: 'streaming', body: renderSection(run, selected) });
  console.log(`\nWrote the Streaming section of ${path.relative(ROOT, DOC)} and ${path.relative(ROOT, RESULTS)}`);
  console.log(`\n${summaryTable(run)}\n\nAll streaming benchmarks: ${fixed(run.seconds, 0)} s`);
  const failed = results.filter((result) => result.error || result.failures?.length);
  if (failed.length > 0) {
    console.error(`\nFailed: ${failed.map((result) => result.name).join(', ')}`);
    process.exitCode = 1;
  }
}

/**
 * One benchmark in a child process, in its own process group so that a last-resort kill also
 * ends the servers it started. The child has its own deadline and cleans up after itself; this
 * one is only a backstop.
 */
async function runOne(file, benchmark) {
  const jsonFile = path.join(temporaryRoot, `${benchmark.name}.json`);
  const child = spawn(process.execPath, [path.join(BENCH_DIR, file), '--json', jsonFile], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, BENCH_TMP_DIR: temporaryRoot },
  });
  current = child;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const backstopMs = benchmark.deadlineMs + 20_000;
  let outcome = await Promise.race([exited, sleep(backstopMs, null, { ref: false })]);
  if (!outcome) {
    console.error(`${benchmark.name}: still running after ${backstopMs / 1000} s; stopping it`);
    signalGroup(child, 'SIGTERM');
    outcome = await Promise.race([exited, sleep(10_000, null, { ref: false })]);
    if (!outcome) {
      signalGroup(child, 'SIGKILL');
      outcome = await exited;
    }
  }
  current = null;
  if (fs.existsSync(jsonFile)) return JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  return {
    name: benchmark.name,
    error: `exited with ${outcome.signal ?? `code ${outcome.code}`} before writing its figures (see its output)`,
  };
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function installSignalHandlers() {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      interrupted = signal;
      // The benchmark stops its servers on SIGTERM; the loop in main() then ends the run.
      if (current) signalGroup(current, 'SIGTERM');
      // Backstop: a benchmark that does not stop in time is killed with everything it started.
      setTimeout(() => {
        if (current) signalGroup(current, 'SIGKILL');
        if (temporaryRoot) fs.rmSync(temporaryRoot, { recursive: true, force: true });
        process.exit(1);
      }, 15_000).unref();
    });
  }
}

/** One line per benchmark: its headline figure against its baseline and the aim. */
function summaryRows(run) {
  const byName = Object.fromEntries(run.results.map((result) => [result.name, result]));
  const rows = [];
  const failed = (result) => (result?.error ? `**failed**: ${result.error}` : null);
  const overhead = byName['streaming-overhead'];
  if (overhead)
    rows.push(
      failed(overhead)
        ? ['Token latency to an SSE client', '–', '–', '–', 'p99 added < 5 ms', failed(overhead)]
        : [
            'Token latency to an SSE client (p99)',
            `${fixed(overhead.parley.p99)} ms through Parley`,
            `${fixed(overhead.direct.p99)} ms direct`,
            `+${fixed(overhead.addedP99Ms)} ms`,
            `added p99 < ${streamingOverhead.AIM_ADDED_P99_MS} ms`,
            verdict(overhead.aimMet, overhead),
          ],
    );
  const concurrent = byName['concurrent-streams'];
  if (concurrent)
    rows.push(
      failed(concurrent)
        ? ['Concurrent streaming replies', '–', '–', '–', 'no error, bounded memory', failed(concurrent)]
        : (() => {
            const [baseline, load] = concurrent.batches;
            const errors = concurrent.batches.reduce((sum, batch) => sum + batch.errors, 0) + concurrent.third.errors;
            return [
              `${whole(load.streams)} concurrent streaming replies`,
              `${errors} errors; peak +${fixed(load.growthPerStreamKiB, 1)} KiB/stream; ${fixed(load.wallMs / 1000, 1)} s`,
              `${baseline.streams} replies: +${fixed(baseline.growthPerStreamKiB, 1)} KiB/stream; ${fixed(baseline.wallMs / 1000, 1)} s`,
              `${fixed(concurrent.growthPerStreamRatio)} (memory), ${fixed(concurrent.wallTimeRatio)} (time)`,
              'no error, bounded memory',
              errors === 0 && concurrent.failures.length === 0
                ? `no errors; ${whole(concurrent.retainedBytesPerReply)} B of heap kept per finished reply (replay buffer)`
                : `**${errors} errors**${concurrent.failures.length ? `; ${concurrent.failures.length} checks failed` : ''}`,
            ];
          })(),
    );
  const idle = byName['idle-streams'];
  if (idle)
    rows.push(
      failed(idle)
        ? ['Idle `GET …/stream` connections', '–', '–', '–', '< 20 KiB each', failed(idle)]
        : [
            `${whole(idle.settings.connections)} idle \`GET …/stream\` connections`,
            `${fixed(idle.kibPerConnection, 1)} KiB each (RSS +${fixed((idle.atFull.rssKiB - idle.before.rssKiB) / 1024, 1)} MiB)`,
            `0 connections: ${fixed(idle.before.rssKiB / 1024, 1)} MiB`,
            `marginal ${fixed(idle.marginalKibPerConnection, 1)} KiB each`,
            `< ${idleStreams.AIM_KIB_PER_CONNECTION} KiB each`,
            `${verdict(idle.aimMet, idle)}; ${idleStreams.bounded(idle) ? 'no leak over 3 open/close cycles' : '**heap grows with each open/close cycle**'}`,
          ],
    );
  const pages = byName['messages-page'];
  if (pages)
    rows.push(
      ...(failed(pages)
        ? [['`GET …/messages` page latency', '–', '–', '–', 'flat from 10 to 100,000 messages', failed(pages)]]
        : pages.rows.map((row, index) => [
            `\`GET …/messages\` ${row.page}`,
            `${whole(pages.settings.largeCount)} msgs: ${whole(row.large.requestsPerSecond)} req/s, p99 ${row.large.p99} ms`,
            `${whole(pages.settings.smallCount)} msgs: ${whole(row.small.requestsPerSecond)} req/s, p99 ${row.small.p99} ms`,
            `${fixed(row.large.requestsPerSecond / row.small.requestsPerSecond)} (req/s)`,
            index === 2 ? 'none: a deep OFFSET is linear' : 'flat (ratio ≈ 1)',
            pageVerdict(row, index, pages),
          ])),
    );
  return rows;
}

/** limit=50 returns 10 messages from the small thread and 50 from the big one: not a like-for-like ratio. */
function pageVerdict(row, index, pages) {
  if (index === 2) return 'linear, as expected of OFFSET';
  if (row.small.messages !== row.large.messages)
    return `not comparable: ${row.large.messages} vs ${row.small.messages} messages returned (see the limit=10 row)`;
  return verdict(row.large.requestsPerSecond / row.small.requestsPerSecond >= 0.8, pages, 'flat', 'not flat');
}

function verdict(met, result, yes = 'met', no = 'not met') {
  const checks = result.failures?.length ? ` (${result.failures.length} checks failed)` : '';
  return `${met ? yes : `**${no}**`}${checks}`;
}

const SUMMARY_HEADER = ['benchmark', 'Parley', 'baseline', 'ratio / difference', 'aim', 'result'];

function summaryTable(run) {
  return markdownTable(
    SUMMARY_HEADER,
    summaryRows(run),
    SUMMARY_HEADER.map(() => false),
  );
}

function renderSection(run, selected) {
  const sections = selected.map(({ module }) => {
    const result = run.results.find((entry) => entry.name === module.benchmark.name);
    if (!result || result.error) return `### ${module.benchmark.name}\n\n**Failed:** ${result?.error ?? 'no result'}`;
    const failures = result.failures?.length
      ? `\n\n**Checks that failed:**\n\n${result.failures.map((failure) => `- ${failure}`).join('\n')}`
      : '';
    return `${module.render(result)}${failures}`;
  });
  return [
    '## Streaming',
    '',
    'Four benchmarks of the SSE event log (docs/streaming.md) and of reading long threads, each against a baseline ' +
      'measured in the same run. Every server is `node dist/cli/main.js serve` in its own process on a fresh SQLite ' +
      'file (`LOG_LEVEL=warn`); the clients run in the benchmark process; servers, clients and the fake model share ' +
      'the machine, so absolute figures are modest and the ratios are the figures to compare. Memory is the server ' +
      "process's RSS from `/proc/<pid>/status`.",
    '',
    `Machine: ${run.machine}. Load average when the run started: ${fixed(run.loadAverage.before)}, when it ended: ` +
      `${fixed(run.loadAverage.after)} (other work on the machine disturbs the timings).`,
    '',
    `Run: ${run.startedAt}, code ${run.code}, ${fixed(run.seconds, 0)} s in all.`,
    '',
    summaryTable(run),
    '',
    sections.join('\n\n'),
    '',
    'Reproduce (from the repository root): `npm run bench:streaming`, or `node bench/streaming.js <name>…` for some ' +
      'of them (names: `streaming-overhead`, `concurrent-streams`, `idle-streams`, `messages-page`; each file also runs ' +
      'on its own, e.g. `node bench/idle-streams.js`). Figures are also written to `bench/results/streaming-latest.json`.',
  ].join('\n');
}

main().catch((error) => {
  console.error(error?.stack ?? error);
  if (current) signalGroup(current, 'SIGTERM');
  if (temporaryRoot) fs.rmSync(temporaryRoot, { recursive: true, force: true });
  process.exitCode = 1;
});
