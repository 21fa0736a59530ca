import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceSection, runRecord } from './lib/doc-section.js';
import { fixed, markdownTable, whole } from './lib/stats.js';

/**
 * `npm run bench:mcp` (builds first): runs the MCP benchmark (bench/mcp-overhead.js) for
 * BENCH_MCP_ROUNDS rounds (default 5), each in its own process — fresh servers, fresh JIT, its
 * own event loop; a signal to this runner reaches it — then writes the "MCP tool calls" section
 * of docs/performance.md (every figure the median of the rounds, with their range) and
 * bench/results/mcp-latest.json. Exits 1 if a round failed or one of its checks did. `--render`
 * rewrites the section from bench/results/mcp-latest.json without measuring.
 */

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const DOC = path.join(ROOT, 'docs', 'performance.md');
const RESULTS = path.join(BENCH_DIR, 'results', 'mcp-latest.json');
const ROUNDS = Number(process.env.BENCH_MCP_ROUNDS ?? 5);

async function main() {
  if (process.argv.includes('--render')) {
    // Rewrites the section from the last results (after a change to its text), measuring nothing.
    replaceSection({ file: DOC, name: 'mcp', body: renderSection(JSON.parse(fs.readFileSync(RESULTS, 'utf8'))) });
    return;
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build');
  const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-mcp-bench-'));
  const started = new Date();
  const loadBefore = os.loadavg()[0];
  const results = [];
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      console.log(`\n=== round ${round} of ${ROUNDS}`);
      const jsonFile = path.join(temporary, `round-${round}.json`);
      const outcome = await runChild(path.join(BENCH_DIR, 'mcp-overhead.js'), jsonFile);
      if (!fs.existsSync(jsonFile)) {
        throw new Error(
          `mcp-overhead exited with ${outcome.signal ?? `code ${outcome.code}`} before writing its figures`,
        );
      }
      results.push(JSON.parse(fs.readFileSync(jsonFile, 'utf8')));
    }
  } finally {
    fs.rmSync(temporary, { recursive: true, force: true });
  }
  const run = runRecord({ started, loadBefore, root: ROOT, results });
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(run, null, 2));
  replaceSection({ file: DOC, name: 'mcp', body: renderSection(run) });
  console.log(`\nWrote the MCP tool calls section of ${path.relative(ROOT, DOC)} and ${path.relative(ROOT, RESULTS)}`);
  console.log(`\n${headline(results)}`);
  if (results.some((result) => result.failures?.length)) process.exitCode = 1;
}

function runChild(script, jsonFile) {
  const child = spawn(process.execPath, [script, '--json', jsonFile], { stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, forward);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      for (const name of ['SIGINT', 'SIGTERM']) process.off(name, forward);
      resolve({ code, signal });
    }),
  );
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The median of the rounds, and their range: `0.412 (0.398–0.450)`. */
function acrossRounds(results, select, digits = 3, format = (value) => fixed(value, digits)) {
  const values = results.map(select);
  const range = results.length > 1 ? ` (${format(Math.min(...values))}–${format(Math.max(...values))})` : '';
  return `${format(median(values))}${range}`;
}

function headline(results) {
  const m = (select, digits) => acrossRounds(results, select, digits);
  return [
    `tools/call direct p50/p99: ${m((r) => r.calls.direct.p50)} / ${m((r) => r.calls.direct.p99)} ms; ` +
      `through Parley: ${m((r) => r.calls.parley.p50)} / ${m((r) => r.calls.parley.p99)} ms`,
    `added by Parley p50/p99: ${m((r) => r.added.callP50Ms)} / ${m((r) => r.added.callP99Ms)} ms`,
    `runs: MCP step − built-in step p50/p99: ${m((r) => r.added.stepP50Ms)} / ${m((r) => r.added.stepP99Ms)} ms; ` +
      `whole run: ${m((r) => r.added.runP50Ms)} / ${m((r) => r.added.runP99Ms)} ms`,
    `pooled vs new connection per call: ${m((r) => r.reuseRatio[1], 1)}× at 1 caller, ${m((r) => r.reuseRatio[16], 1)}× at 16`,
  ].join('\n');
}

function renderSection(run) {
  const { results } = run;
  const s = results[0].settings;
  const m = (select, digits = 3) => acrossRounds(results, select, digits);
  const failures = results.flatMap((result, index) => (result.failures ?? []).map((f) => `round ${index + 1}: ${f}`));
  const latencyRow = (label, select) => [
    label,
    m((r) => select(r).p50),
    m((r) => select(r).p99),
    m((r) => select(r).max, 2),
  ];
  const latencyHeader = ['measured (median of rounds, range)', 'p50 ms', 'p99 ms', 'max ms'];
  const reuseOf = (result, mode, concurrency) =>
    result.reuse.find((entry) => entry.mode === mode && entry.concurrency === concurrency);
  const reuseRows = s.concurrencies.flatMap((concurrency) =>
    ['pooled', 'new connection per call'].map((mode) => [
      mode === 'pooled' ? 'one pooled connection' : 'a new connection per call',
      String(concurrency),
      acrossRounds(results, (r) => reuseOf(r, mode, concurrency).callsPerSecond, 0, whole),
      acrossRounds(results, (r) => reuseOf(r, mode, concurrency).initializations, 0, whole),
    ]),
  );
  return [
    '## MCP tool calls',
    '',
    'What Parley adds to a call of an MCP server’s tool, and what reusing the connection saves. The MCP server is ' +
      '`bench/lib/mcp-echo-server.js` in its own process: the SDK’s `McpServer` over `StreamableHTTPServerTransport` ' +
      '(stateful sessions, answers as server-sent events — the SDK’s defaults) on loopback, one tool `echo`, called ' +
      'with `{}` everywhere (its answer is one text item). Every side talks to that one server.',
    '',
    `Machine: ${run.machine}. Load average when the run started: ${fixed(run.loadAverage.before)}, when it ended: ` +
      `${fixed(run.loadAverage.after)} (other work on the machine disturbs the timings, the p99s most).`,
    '',
    `Run: ${run.startedAt}, code ${run.code}, ${fixed(run.seconds, 0)} s in all, **${results.length} rounds**, each ` +
      'in a fresh process with fresh servers. Every figure is the **median of the rounds**, their range in brackets; ' +
      'each round’s p50/p99 is over its own samples (nearest rank). Differences are of percentiles, not percentiles ' +
      'of differences, taken per round and then the median.',
    '',
    '### Tool-call overhead: Parley’s MCP tool vs. the SDK client called directly',
    '',
    `**One call, in the benchmark’s process.** ${whole(s.calls)} sequential \`tools/call\`s each way per round ` +
      `(after ${whole(s.warmupCalls)} warm-up), interleaved one for one. **Baseline:** the SDK’s \`Client\` over ` +
      '`StreamableHTTPClientTransport` with the platform fetch, connected once. **Parley:** the MCP tool a run ' +
      'resolves (`mcpTool` with the configuration the catalogue stores, from `dist/`), run through the tool ' +
      'runner’s `runTool` as a run does — the run’s timeout and abort signal, the pooled connection ' +
      '(`McpConnectionPool`), the guarded outbound fetch (every hop checked, the pinned undici Agent, byte cap and ' +
      'idle timeout on the streamed body), the result mapped and serialised.',
    '',
    `**Whole runs through the HTTP API.** \`node dist/cli/main.js serve\` in its own process on a fresh SQLite file ` +
      '(`LOG_LEVEL=warn`, `OUTBOUND_ALLOW=127.0.0.1`, the offline demo model at full speed, which calls a tool named ' +
      '`current_time` when asked the time). Two agents get "what time is it?" on a fresh thread each, through ' +
      '`POST …/messages/stream`: one has the built-in `current_time` (in-process, no I/O), the other an `mcp_server` ' +
      'tool named `current_time` whose `mcp_tool_name` is the server’s `echo` (registered and connected through the ' +
      'API; the synced `echo` row disabled, so both agents offer the model one tool). Same model steps, same ' +
      `rows and events: the difference is the MCP call. ${whole(s.runs)} runs of each kind per round (after ` +
      `${whole(s.warmupRuns)} warm-up), interleaved. The **tool step** is timed by the client on the monotonic ` +
      'clock from the arrival of `tool-call-start` (sent once the call is recorded) to `tool-call-end` (sent once ' +
      'its result is stored), as in the Tool calls section.',
    '',
    markdownTable(latencyHeader, [
      latencyRow('`tools/call`, SDK client directly (baseline)', (r) => r.calls.direct),
      latencyRow('`tools/call`, Parley’s MCP tool through `runTool`', (r) => r.calls.parley),
      latencyRow('tool step, built-in `current_time`', (r) => r.runs.steps['built-in']),
      latencyRow('tool step, MCP `echo`', (r) => r.runs.steps.mcp),
      latencyRow('whole run, built-in `current_time`', (r) => r.runs.runs['built-in']),
      latencyRow('whole run, MCP `echo`', (r) => r.runs.runs.mcp),
    ]),
    '',
    markdownTable(
      ['added (median of rounds, range)', 'p50 ms', 'p99 ms'],
      [
        ['Parley’s MCP tool − SDK client directly', m((r) => r.added.callP50Ms), m((r) => r.added.callP99Ms)],
        ['run’s MCP step − built-in step', m((r) => r.added.stepP50Ms), m((r) => r.added.stepP99Ms)],
        [
          'run’s MCP step − built-in step − SDK client directly',
          m((r) => r.added.stepP50Ms - r.calls.direct.p50),
          m((r) => r.added.stepP99Ms - r.calls.direct.p99),
        ],
        ['whole run, MCP − built-in', m((r) => r.added.runP50Ms), m((r) => r.added.runP99Ms)],
      ],
    ),
    '',
    '### Connection reuse: calls per second over one pooled connection vs. a new connection per call',
    '',
    `Calls of Parley’s MCP tool (as above) for ${s.reuseSeconds} s per row and round, each caller calling again ` +
      'as soon as its call ends. **Pooled:** one `McpConnectionPool`, so one MCP session for every caller. **New ' +
      'connection per call:** a fresh pool per call — connect, `initialize`, `notifications/initialized` (and the ' +
      'SDK’s standalone GET stream), the call, close — on the same guarded outbound client, so TCP connections may ' +
      'still be reused by its undici Agent: what this isolates is the MCP session, not the TCP handshake. ' +
      '"Sessions" is how many sessions the server initialised during the row (none for the pooled rows: their one ' +
      'session was made before them).',
    '',
    markdownTable(['connection', 'callers', 'calls/s', 'sessions initialised'], reuseRows),
    '',
    `Pooled ÷ new connection per call: **${m((r) => r.reuseRatio[1], 1)}×** with 1 caller, ` +
      `**${m((r) => r.reuseRatio[16], 1)}×** with 16.`,
    '',
    ...(failures.length ? ['**Checks that failed:**', '', ...failures.map((failure) => `- ${failure}`), ''] : []),
    'Reproduce (from the repository root): `npm run bench:mcp` (or `node bench/mcp.js` after `npm run build`; ' +
      '`node bench/mcp-overhead.js` runs one round without writing this section). `BENCH_MCP_ROUNDS`, ' +
      '`BENCH_MCP_CALLS`, `BENCH_MCP_WARMUP_CALLS`, `BENCH_MCP_RUNS`, `BENCH_MCP_WARMUP_RUNS` and ' +
      '`BENCH_MCP_REUSE_SECONDS` change the sample counts; `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=…"` ' +
      'profiles the Parley server. Every round’s figures are also written to `bench/results/mcp-latest.json`.',
  ].join('\n');
}

main().catch((error) => {
  console.error(error?.stack ?? error);
  process.exitCode = 1;
});
