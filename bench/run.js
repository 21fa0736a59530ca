import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { loadProblems, runLoad } from './lib/load.js';
import { countRows, createBenchDatabase, POSTGRES_ADMIN_URL } from './lib/postgres.js';
import { cleanup, cpuTimeMs, stopChild } from './lib/children.js';
import { formatProfileSummary, summariseProfile } from './lib/profile.js';
import { describeCode, describeMachine } from './lib/doc-section.js';
import {
  AIM_RATIO,
  durabilitySentence,
  tableRows,
  textTable,
  writeThreadCreateSection,
} from './lib/thread-create-section.js';
import { startBare, startParley } from './lib/servers.js';

/**
 * `npm run bench`: thread creation on Parley (SQLite, then PostgreSQL if reachable) against a bare
 * Fastify route with the same validation. See docs/performance.md for what is measured and why.
 * Exit code 1 when a durable target answered anything but 2xx, lost a write, or did not shut
 * down cleanly.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIRECTORY = path.join(ROOT, 'bench', 'results');
const PERFORMANCE_DOC = path.join(ROOT, 'docs', 'performance.md');

const settings = Object.freeze({
  connections: 100,
  warmupSeconds: readSeconds('BENCH_WARMUP_SECONDS', 2),
  durationSeconds: readSeconds('BENCH_DURATION_SECONDS', 10),
  profile: process.env.BENCH_PROFILE === '1',
  targets: readTargets(),
});

/** BENCH_TARGETS=bare,sqlite,postgres (the default) narrows a run while investigating. */
function readTargets() {
  const known = ['bare', 'sqlite', 'postgres'];
  const raw = process.env.BENCH_TARGETS?.trim();
  const targets = raw ? raw.split(',').map((target) => target.trim()) : known;
  const unknown = targets.filter((target) => !known.includes(target));
  if (unknown.length > 0)
    throw new Error(`BENCH_TARGETS: unknown target(s) ${unknown.join(', ')}; use ${known.join(',')}`);
  return targets;
}

function readSeconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 600) {
    throw new Error(`${name} must be a whole number of seconds between 0 and 600, got "${raw}"`);
  }
  return value;
}

/** Undo steps (temp dirs, databases), run newest first whatever happens. */
const cleanups = [];

async function cleanUp() {
  // Children first: a database cannot be dropped, nor a directory removed, under a live server.
  await cleanup();
  while (cleanups.length > 0) {
    const step = cleanups.pop();
    try {
      await step();
    } catch (error) {
      console.error(`cleanup failed: ${error.message}`);
    }
  }
}

function log(message) {
  console.log(`[bench] ${message}`);
}

function loud(message) {
  console.error(`\n!!! ${message.split('\n').join('\n!!! ')}\n`);
}

const RUN_BODY = (agentId) => ({ agent_id: agentId, title: 'bench', metadata: { source: 'bench' } });
const THREADS_PATH = (agentId) => `/api/v1/chat/${agentId}/threads`;

/** Load on one server; the caller started it and stops it. */
async function measure(label, { handle, baseUrl, apiKey, agentId }) {
  log(`${label}: ${settings.warmupSeconds} s warm-up, then ${settings.durationSeconds} s measured…`);
  const load = await runLoad({
    url: `${baseUrl}${THREADS_PATH(agentId)}`,
    headers: apiKey ? { 'x-api-key': apiKey } : {},
    body: RUN_BODY(agentId),
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    durationSeconds: settings.durationSeconds,
    cpuTimeMs: () => cpuTimeMs(handle.pid),
  });
  const { measured } = load;
  const cpu =
    measured.serverCpuMicrosPerRequest == null
      ? ''
      : `, server CPU ${Math.round(measured.serverCpuMicrosPerRequest)} µs/request (${Math.round(measured.serverCpuShare * 100)}% of a core)`;
  log(
    `${label}: ${Math.round(measured.requestsPerSecond)} req/s, p50 ${measured.latencyP50Ms} ms, ` +
      `p99 ${measured.latencyP99Ms} ms, ${measured.ok} × 2xx, ${measured.non2xx} non-2xx, ${measured.errors} errors${cpu}`,
  );
  return load;
}

/**
 * Every answered 2xx must be a row (nothing acknowledged was lost). Requests cut off when
 * autocannon stopped may have committed too, so there can be up to that many more rows.
 */
function checkDurability(label, load, rows) {
  const phases = [load.warmup, load.measured].filter(Boolean);
  const acknowledged = phases.reduce((sum, phase) => sum + phase.ok, 0);
  const unanswered = phases.reduce((sum, phase) => sum + phase.unanswered, 0);
  const durability = { rows, acknowledged, unanswered };
  const problems = [];
  if (rows < acknowledged)
    problems.push(`${label}: LOST WRITES — ${rows} rows but ${acknowledged} creates were acknowledged`);
  if (rows > acknowledged + unanswered) {
    problems.push(`${label}: ${rows} rows but only ${acknowledged} acknowledged + ${unanswered} unanswered requests`);
  }
  log(`${label}: durability: ${durabilitySentence(durability)}`);
  return { durability, problems };
}

/**
 * Stops the server after its load. It must still be running (a server that exited during the run
 * crashed or was signalled by someone else) and SIGTERM must lead to a clean exit (0): in-flight
 * requests finish and the database closes.
 */
async function stopAndCheck(label, handle) {
  const exitedEarly = handle.child.exitCode !== null || handle.child.signalCode !== null;
  const stopped = await stopChild(handle, 20_000);
  if (exitedEarly) {
    return [
      `${label}: the server exited DURING the run (${stopped.code ?? stopped.signal}), before the benchmark stopped it`,
    ];
  }
  return checkStop(label, stopped);
}

function checkStop(label, stopped) {
  if (stopped.killed) return [`${label}: did not exit within the grace period after SIGTERM (killed)`];
  if (stopped.code !== 0) return [`${label}: exited with ${stopped.code ?? stopped.signal} after SIGTERM, expected 0`];
  return [];
}

/** Server output at LOG_LEVEL=warn is a problem report by definition: show it. */
function serverLogProblems(label, handle) {
  const lines = handle.stderr
    .split('\n')
    .concat(handle.stdout.split('\n'))
    .filter((line) => /"level":\s*[4-6]\d/.test(line));
  if (lines.length === 0) return [];
  return [`${label}: the server logged ${lines.length} warning/error line(s), first: ${lines.slice(0, 3).join('\n')}`];
}

async function benchBare(profileDirectory) {
  const label = 'bare Fastify route';
  const server = await startBare({ profileDirectory });
  // The bare route needs no agent; any UUID satisfies the params schema.
  const load = await measure(label, { ...server, agentId: '0b6a3c1e-5f1d-4a7e-9c2b-00000000beef' });
  // The reference point's errors make the ratio meaningless, but they are not Parley's failures.
  const warnings = [...loadProblems(label, load), ...(await stopAndCheck(label, server.handle))];
  return { target: 'bare', label, load, problems: [], warnings };
}

async function benchSqlite(profileDirectory) {
  const label = 'Parley, SQLite';
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  cleanups.push(() => fs.rmSync(directory, { recursive: true, force: true }));
  const filename = path.join(directory, 'parley.db');
  const server = await startParley({ name: 'parley-sqlite', databaseUrl: `sqlite:${filename}`, profileDirectory });
  const load = await measure(label, server);
  const problems = [
    ...loadProblems(label, load),
    ...(await stopAndCheck(label, server.handle)),
    ...serverLogProblems(label, server.handle),
  ];
  const rows = countSqliteThreads(filename);
  const { durability, problems: durabilityProblems } = checkDurability(label, load, rows);
  return { target: 'sqlite', label, load, durability, problems: [...problems, ...durabilityProblems], warnings: [] };
}

function countSqliteThreads(filename) {
  const database = new Database(filename, { readonly: true, fileMustExist: true });
  try {
    return database.prepare('select count(*) as n from chat_threads').get().n;
  } finally {
    database.close();
  }
}

async function benchPostgres(profileDirectory) {
  const label = 'Parley, PostgreSQL';
  let database;
  try {
    database = await createBenchDatabase();
  } catch (error) {
    const reason = `PostgreSQL skipped: cannot create a database via ${POSTGRES_ADMIN_URL} (${error.message})`;
    loud(reason);
    return { skipped: reason };
  }
  cleanups.push(() => database.drop());
  const server = await startParley({ name: 'parley-postgres', databaseUrl: database.url, profileDirectory });
  const load = await measure(label, server);
  const problems = [
    ...loadProblems(label, load),
    ...(await stopAndCheck(label, server.handle)),
    ...serverLogProblems(label, server.handle),
  ];
  const rows = await countRows(database.url, 'chat_threads');
  const { durability, problems: durabilityProblems } = checkDurability(label, load, rows);
  return { target: 'postgres', label, load, durability, problems: [...problems, ...durabilityProblems], warnings: [] };
}

function printProfiles(profileDirectory) {
  for (const file of fs.readdirSync(profileDirectory).filter((name) => name.endsWith('.cpuprofile'))) {
    console.log(`\n${formatProfileSummary(file, summariseProfile(path.join(profileDirectory, file)))}`);
  }
}

function prepareProfileDirectory() {
  if (!settings.profile) return undefined;
  const directory = path.join(RESULTS_DIRECTORY, 'profiles');
  fs.rmSync(directory, { recursive: true, force: true });
  fs.mkdirSync(directory, { recursive: true });
  return directory;
}

async function main() {
  const started = Date.now();
  const machine = describeMachine();
  // Read before the servers start: dist/ was just built from this state of src/.
  const code = describeCode(ROOT);
  log(`${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}; code ${code}; ${settings.connections} connections`);
  const profileDirectory = prepareProfileDirectory();
  if (profileDirectory) log(`profiling on: servers run with --cpu-prof (slower; do not compare these figures)`);

  const results = [];
  const notes = [];
  if (settings.targets.includes('bare')) results.push(await benchBare(profileDirectory));
  if (settings.targets.includes('sqlite')) results.push(await benchSqlite(profileDirectory));
  if (settings.targets.includes('postgres')) {
    const postgres = await benchPostgres(profileDirectory);
    if (postgres.skipped) notes.push(postgres.skipped);
    else results.push(postgres);
  }

  const rows = tableRows(results);
  console.log(`\n${textTable(rows)}\n`);

  const sqliteRatio = rows.find((row) => row.target === 'Parley, SQLite')?.ratio ?? null;
  if (sqliteRatio !== null && sqliteRatio < AIM_RATIO) {
    loud(
      `Aim NOT met: durable SQLite create reaches ${sqliteRatio.toFixed(2)} of the bare route (aim ≥ ${AIM_RATIO}).`,
    );
  } else if (sqliteRatio !== null) {
    log(`aim met: durable SQLite create reaches ${sqliteRatio.toFixed(2)} of the bare route (aim ≥ ${AIM_RATIO})`);
  }

  const warnings = results.flatMap((result) => result.warnings);
  const problems = results.flatMap((result) => result.problems);
  for (const warning of warnings) loud(`WARNING ${warning}`);
  for (const problem of problems) loud(`FAILED ${problem}`);

  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  fs.mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const raw = { date, machine, code, settings, results, problems, warnings, notes };
  fs.writeFileSync(path.join(RESULTS_DIRECTORY, 'latest.json'), `${JSON.stringify(raw, null, 2)}\n`);

  // Figures from a failed or partial run must not replace the published ones.
  if (problems.length === 0 && sqliteRatio !== null) {
    writeThreadCreateSection(PERFORMANCE_DOC, {
      machine,
      code,
      date,
      settings,
      rows,
      results,
      notes: [...notes, ...warnings],
    });
    log(`wrote ${path.relative(ROOT, PERFORMANCE_DOC)} and bench/results/latest.json`);
  } else {
    const why = problems.length > 0 ? 'run failed' : 'partial run (BENCH_TARGETS)';
    log(`${why}: ${path.relative(ROOT, PERFORMANCE_DOC)} left unchanged; raw figures in bench/results/latest.json`);
  }
  if (profileDirectory) printProfiles(profileDirectory);
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  return problems.length === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    loud(`interrupted by ${signal}: stopping servers and removing temporary data`);
    cleanUp().finally(() => process.exit(130));
  });
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  loud(`benchmark failed: ${error.stack ?? error.message}`);
} finally {
  await cleanUp();
}
process.exitCode = exitCode;
