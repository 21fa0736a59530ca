import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** The aim stated for this benchmark: durable SQLite creates at ≥ half the bare route's rate. */
export const AIM_RATIO = 0.5;

const SECTION_START = '<!-- bench:thread-create:start (written by `npm run bench`; edits inside are overwritten) -->';
const SECTION_END = '<!-- bench:thread-create:end -->';

export function describeMachine() {
  const cpuinfo = readText('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cpus: os.availableParallelism(),
    cpuModel: model,
    memoryGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

/** Which code was measured: the commit, and whether src/ had uncommitted changes (then dist/ has them). */
export function describeCode(root) {
  try {
    const git = (...args) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return dirty ? `${commit} with uncommitted changes under src/` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

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

/** The section of docs/performance.md this benchmark owns, as Markdown. */
export function markdownSection({ machine, code, date, settings, rows, results, notes }) {
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
    SECTION_START,
    '## Creating a chat thread: durable write vs. bare route',
    '',
    'What it measures: `POST /api/v1/chat/{agent_id}/threads` with the body',
    '`{"agent_id": …, "title": "bench", "metadata": {"source": "bench"}}` and an `x-api-key`, against:',
    '',
    '- **bare** — `bench/bare-server.js`: Fastify 5 with only this route, the same params/body/response schemas',
    '  compiled by Parley’s own ajv setup (`buildValidatorCompiler`), no logging, no auth, no database.',
    '  It is the ceiling: what the framework and validation alone cost on this machine.',
    '- **Parley, SQLite** — `node dist/cli/main.js serve` on a fresh file (WAL, `synchronous=FULL`, group',
    '  commit: a response is sent only after the COMMIT that holds its row). Authentication, hooks,',
    '  idempotency handling and the insert all included.',
    '- **Parley, PostgreSQL** — the same server on a fresh local PostgreSQL database (default pool of 10).',
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
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB.toFixed(1)} GiB, ${machine.platform}, Node ${machine.node}.`,
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
    SECTION_END,
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

/** Replaces this benchmark's section of the file, or adds it; the rest of the file is kept. */
export function writeMarkdownSection(file, section) {
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  let text;
  const start = existing.indexOf(SECTION_START);
  const end = existing.indexOf(SECTION_END);
  if (start >= 0 && end > start) {
    text = existing.slice(0, start) + section + existing.slice(end + SECTION_END.length);
  } else if (existing.trim() !== '') {
    text = `${existing.trimEnd()}\n\n${section}\n`;
  } else {
    text = [
      '# Performance',
      '',
      'Benchmarks of the Parley server. Each section below is written by the benchmark named in it;',
      'run it again to refresh the figures.',
      '',
      section,
      '',
    ].join('\n');
  }
  fs.writeFileSync(file, text);
}
