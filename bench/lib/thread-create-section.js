import { machineSummary, replaceSection } from './doc-section.js';

/** What `npm run bench` writes: the thread-create section of docs/performance.md and its table. */

/** The aim stated for this benchmark: durable SQLite creates at ≥ half the bare route's rate. */
export const AIM_RATIO = 0.5;

/** Rows for the table; the ratio compares each target with the bare route. */
export function tableRows(results) {
  const bare = results.find((result) => result.target === 'bare');
  return results.map((result) => ({
    target: result.label,
    rps: result.load.measured.requestsPerSecond,
    p50: result.load.measured.latencyP50Ms,
    p99: result.load.measured.latencyP99Ms,
    ratio: bare ? result.load.measured.requestsPerSecond / bare.load.measured.requestsPerSecond : null,
    cpuMicros: result.load.measured.serverCpuMicrosPerRequest ?? null,
    cpuShare: result.load.measured.serverCpuShare ?? null,
  }));
}

const HEADERS = ['target', 'req/s', 'p50 ms', 'p99 ms', 'ratio vs bare', 'server CPU µs/req', 'server CPU'];

function cells(row) {
  return [
    row.target,
    Math.round(row.rps).toLocaleString('en-US'),
    String(row.p50),
    String(row.p99),
    row.ratio === null ? '–' : row.ratio.toFixed(2),
    row.cpuMicros === null ? '–' : String(Math.round(row.cpuMicros)),
    row.cpuShare === null ? '–' : `${Math.round(row.cpuShare * 100)}%`,
  ];
}

export function textTable(rows) {
  const lines = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, column) => Math.max(...lines.map((line) => line[column].length)));
  const format = (line) =>
    line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [format(lines[0]), widths.map((width) => '-'.repeat(width)).join('  '), ...lines.slice(1).map(format)].join(
    '\n',
  );
}

function markdownTable(rows) {
  return [
    `| ${HEADERS.join(' | ')} |`,
    `| ${HEADERS.map((_, column) => (column === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${cells(row).join(' | ')} |`),
  ].join('\n');
}

/** Writes this benchmark's section of `file` (docs/performance.md); the rest of the file is kept. */
export function writeThreadCreateSection(file, figures) {
  replaceSection({ file, name: 'bench:thread-create', command: 'npm run bench', body: markdownSection(figures) });
}

/** The section's Markdown, between its markers. */
function markdownSection({ machine, code, date, settings, rows, results, notes }) {
  const sqlite = rows.find((row) => row.target.startsWith('Parley, SQLite'));
  const aimLine =
    sqlite?.ratio == null
      ? ''
      : `Aim: the durable SQLite create reaches at least ${AIM_RATIO} of the bare route's throughput — ` +
        `${sqlite.ratio >= AIM_RATIO ? 'met' : '**not met**'} (${sqlite.ratio.toFixed(2)}).`;
  const durability = results
    .filter((result) => result.durability)
    .map(({ label, durability }) => `- ${label}: ${durabilitySentence(durability)}`);
  return [
    '## Creating a chat thread: durable write vs. bare route',
    '',
    'What it measures: `POST /api/v1/chat/{agent_id}/threads` with the body',
    '`{"agent_id": …, "title": "bench", "metadata": {"source": "bench"}}` and an `x-api-key`, against:',
    '',
    '- **bare** — `bench/bare-server.js`: Fastify 5 with only this route, the same params/body/response schemas',
    '  compiled by Parley’s own ajv setup (`validatorCompilerBuilder`), no logging, no auth, no database.',
    '  It is the ceiling: what the framework and validation alone cost on this machine.',
    '- **Parley, SQLite** — `node dist/cli/main.js serve` on a fresh file (WAL, `synchronous=FULL`, group',
    '  commit: a response is sent only after the COMMIT that holds its row). Authentication, hooks,',
    '  idempotency handling and the insert all included.',
    '- **Parley, PostgreSQL** — the same server on a fresh local PostgreSQL database (default pool of 10,',
    '  `synchronous_commit=on`, group commit pipelined over half the pool: ADR 0033).',
    '',
    `How: each server runs in its own process with \`LOG_LEVEL=warn\`; autocannon (in the benchmark`,
    `process) keeps ${settings.connections} connections busy, ${settings.warmupSeconds} s warm-up (discarded), then`,
    `${settings.durationSeconds} s measured. req/s is autocannon's mean of per-second samples; latencies are over`,
    'all measured responses. Any non-2xx or socket error fails the run. After each Parley run the server is',
    'stopped with SIGTERM (it must exit 0) and the rows in `chat_threads` are counted against the 2xx responses.',
    '',
    '"server CPU µs/req" is the server process’s CPU time (user + system, from `/proc`) during the measured',
    'run divided by the responses; "server CPU" is that time as a share of one core. A share near 100 %',
    'means the single-threaded server was the bottleneck. CPU per request is disturbed much less than req/s',
    'by other load on the machine, so it is the better figure for comparing runs.',
    '',
    `Machine: ${machineSummary(machine)}.`,
    'The load generator shares these cores with the server, so absolute figures are low; the ratio is the',
    'figure to compare.',
    '',
    `Run: ${date}, code ${code}.`,
    '',
    markdownTable(rows),
    '',
    aimLine,
    '',
    'Durability check (rows after a clean stop vs. answers received):',
    '',
    ...durability,
    ...(notes.length > 0 ? ['', ...notes.map((note) => `Note: ${note}`)] : []),
    '',
    'Reproduce (from the repository root):',
    '',
    '```sh',
    `${settings.durationSeconds === 10 && settings.warmupSeconds === 2 ? '' : `BENCH_DURATION_SECONDS=${settings.durationSeconds} BENCH_WARMUP_SECONDS=${settings.warmupSeconds} `}npm run bench`,
    '```',
    '',
    'Options: `BENCH_DURATION_SECONDS` (default 10), `BENCH_WARMUP_SECONDS` (default 2), `BENCH_POSTGRES_URL`',
    '(admin URL, default `postgres://postgres@127.0.0.1:5432/postgres`; PostgreSQL is skipped if unreachable),',
    '`BENCH_PROFILE=1` (CPU-profiles every server with `node --cpu-prof` into `bench/results/profiles/` and',
    'prints where the time went; profiling slows the servers, so do not compare those figures),',
    '`BENCH_TARGETS=bare,sqlite,postgres` (a subset, while investigating; a partial run leaves this file alone).',
  ].join('\n');
}

export function durabilitySentence({ rows, acknowledged, unanswered }) {
  const extra = rows - acknowledged;
  if (extra === 0) return `${rows} rows = ${acknowledged} acknowledged creates.`;
  return (
    `${rows} rows = ${acknowledged} acknowledged creates + ${extra} of the ${unanswered} requests still in flight ` +
    'when autocannon stopped (committed, but their answers were never read). No acknowledged create is missing.'
  );
}
