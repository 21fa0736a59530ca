import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { setImmediate as nextTurn } from 'node:timers/promises';
import pg from 'pg';
import { newId, systemClock } from '../dist/ids.js';
import { JobWorker } from '../dist/jobs/job-worker.js';
import { JobWriter } from '../dist/storage/kysely/jobs-store.js';
import { openStore } from '../dist/storage/store.js';

/**
 * `npm run build && node bench/queue-profile.js`: where a job's time goes in the durable queue,
 * as counters (what bench/queue.js measures, broken down; for the ADRs, not a benchmark).
 * Per job of the throughput phase (BENCH_QUEUE_JOBS, default 10,000, concurrency 16, enqueued in
 * transactions of 100): commits, statements, claims and ends (calls and rows per call), the
 * event loop's utilisation, and the time spent inside COMMIT; then per pickup (300 jobs enqueued
 * one at a time to an idle worker) the statements and commits between the enqueue's commit and
 * the handler's start. BENCH_QUEUE_ONLY=sqlite|postgres picks one dialect.
 */

const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 16);
const LATENCY_JOBS = 300;
const BATCH = 100;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const silent = { error: console.error, warn: () => {}, info: () => {}, debug: () => {} };

const counters = {};
const reset = () => {
  for (const key of Object.keys(counters)) delete counters[key];
};
const add = (key, value = 1) => (counters[key] = (counters[key] ?? 0) + value);

function instrument() {
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text;
    add('statements');
    if (text === 'commit') add('commits');
    const started = performance.now();
    const result = original.call(this, config, ...rest);
    void result?.finally?.(() => {
      const ms = performance.now() - started;
      if (text === 'commit') add('commit ms', ms);
      if (process.env.BENCH_QUEUE_STATEMENTS) add(`sql ${text.replace(/\s+/g, ' ').slice(0, 60)}`, ms);
    });
    return result;
  };
  const Sqlite = createRequire(import.meta.url)('better-sqlite3');
  const probe = new Sqlite(':memory:');
  const Statement = probe.prepare('select 1').constructor.prototype;
  probe.close();
  for (const method of ['run', 'get', 'all']) {
    const inner = Statement[method];
    Statement[method] = function (...args) {
      add('statements');
      if (this.source === 'commit') add('commits');
      const started = performance.now();
      try {
        return inner.apply(this, args);
      } finally {
        const ms = performance.now() - started;
        if (this.source === 'commit') add('commit ms', ms);
        if (process.env.BENCH_QUEUE_STATEMENTS) add(`sql ${this.source.replace(/\s+/g, ' ').slice(0, 60)}`, ms);
      }
    };
  }
  for (const [method, size] of [
    ['claim', (result) => result.length],
    ['finishMany', (result) => result.size],
    ['enqueueMany', (result) => result.length],
  ]) {
    const inner = JobWriter.prototype[method];
    JobWriter.prototype[method] = async function (...args) {
      const result = await inner.apply(this, args);
      add(`${method} calls`);
      add(`${method} rows`, size(result));
      return result;
    };
  }
}

async function profile(target) {
  const store = await openStore(target, { postgresPoolSize: CONCURRENCY + 4 });
  const organizationId = newId();
  await store.write((w) =>
    w.organizations.ensure({ id: organizationId, name: `bench-${organizationId}`, now: new Date().toISOString() }),
  );
  const started = new Map();
  let succeeded = 0;
  let allDone = () => {};
  const handler = {
    kind: 'bench_noop',
    run: async (job) => {
      started.set(job.id, performance.now());
      return { status: 'succeeded', errorMessage: null, commit: async () => void (succeeded += 1) };
    },
  };
  const worker = new JobWorker({
    ...{ store, clock: systemClock, newId, handlers: [handler], concurrency: CONCURRENCY, leaseMs: 30_000 },
    ...{ timeoutMs: 60_000, backoff: { kind: 'exponential', baseMs: 1000, maxMs: 60_000 }, pollMs: 1000, log: silent },
  });
  const enqueue = async (count) => {
    const now = new Date().toISOString();
    const jobs = Array.from({ length: count }, () => newId()).map((id) => ({
      ...{ id, organization_id: organizationId, kind: 'bench_noop', subject_id: id, max_attempts: 3 },
      ...{ progress: {}, now },
    }));
    await store.write((w) => w.jobs.enqueueMany(jobs));
    worker.wake();
    return jobs.map((job) => job.id);
  };
  worker.start();
  await nextTurn();
  reset();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const done = new Promise((resolve) => (allDone = resolve));
  const timer = setInterval(() => succeeded >= JOBS && allDone(), 5);
  for (let sent = 0; sent < JOBS; sent += BATCH) await enqueue(Math.min(BATCH, JOBS - sent));
  await done;
  clearInterval(timer);
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const throughput = { ...counters, wall, elu: performance.eventLoopUtilization(elu).utilization, cpu: used };
  reset();
  const latencies = [];
  for (let index = 0; index < LATENCY_JOBS; index += 1) {
    const [id] = await enqueue(1);
    const committed = performance.now();
    while (!started.has(id)) await nextTurn();
    latencies.push(started.get(id) - committed);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const pickup = { ...counters };
  await worker.stop();
  await store.close();
  return { throughput, pickup, latencies };
}

/** With BENCH_QUEUE_STATEMENTS=1: the time from sending each kind of statement to its answer, summed. */
function statementTimes(phase) {
  return Object.entries(phase)
    .filter(([key]) => key.startsWith('sql '))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([key, ms]) => `    ${ms.toFixed(0).padStart(6)} ms  ${key.slice(4)}`);
}

function report(label, { throughput, pickup, latencies }) {
  const per = (value, count) => (value === undefined ? '0' : (value / count).toFixed(3));
  const t = throughput;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1);
  return [
    `## ${label}`,
    `throughput: ${Math.round(JOBS / (t.wall / 1000))} jobs/s; event loop busy ${(t.elu * 100).toFixed(0)} %,` +
      ` process CPU ${(((t.cpu.user + t.cpu.system) / 1000 / t.wall) * 100).toFixed(0)} % of one core,` +
      ` CPU per job ${((t.cpu.user + t.cpu.system) / JOBS).toFixed(0)} µs`,
    `  per job: commits ${per(t.commits, JOBS)}, statements ${per(t.statements, JOBS)},` +
      ` time in COMMIT ${per(t['commit ms'], JOBS)} ms (${((t['commit ms'] / t.wall) * 100).toFixed(0)} % of the wall time)`,
    `  claims: ${t['claim calls']} calls, ${per(t['claim rows'], t['claim calls'])} jobs each;` +
      ` ends: ${t['finishMany calls']} batches, ${per(t['finishMany rows'], t['finishMany calls'])} jobs each`,
    ...statementTimes(t),
    `pickup: p50 ${pct(50)} ms, p99 ${pct(99)} ms; per pickup: commits ${per(pickup.commits, LATENCY_JOBS)},` +
      ` statements ${per(pickup.statements, LATENCY_JOBS)}, claim calls ${per(pickup['claim calls'], LATENCY_JOBS)},` +
      ` end batches ${per(pickup['finishMany calls'], LATENCY_JOBS)} (the enqueue's own commit included)`,
    ...statementTimes(pickup),
    '',
  ].join('\n');
}

instrument();
const only = (process.env.BENCH_QUEUE_ONLY ?? 'sqlite,postgres').split(',');
const out = [`${JOBS} jobs, concurrency ${CONCURRENCY}, load ${os.loadavg()[0].toFixed(1)} at the start`, ''];
if (only.includes('sqlite')) {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-queue-profile-'));
  try {
    out.push(report('SQLite', await profile({ kind: 'sqlite', filename: path.join(directory, 'q.db') })));
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}
if (only.includes('postgres')) {
  const name = `parley_queue_profile_${process.pid}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    out.push(report('PostgreSQL', await profile({ kind: 'postgres', connectionString: url.toString() })));
  } finally {
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
}
process.stdout.write(`${out.join('\n')}\n`);
