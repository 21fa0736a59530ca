import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import pg from 'pg';
import { newId, systemClock } from '../dist/ids.js';
import { JobWorker } from '../dist/jobs/job-worker.js';
import { openStore } from '../dist/storage/store.js';
import { openDatabase } from '../dist/storage/kysely/database.js';

/**
 * `npm run bench:queue` (builds first): the durable job queue (docs/jobs.md) against BullMQ.
 *
 * - Throughput: BENCH_QUEUE_JOBS (default 10,000) no-op jobs enqueued in transactions of 100
 *   while a worker of BENCH_QUEUE_CONCURRENCY (default 16) runs them; jobs per second from the
 *   first enqueue to the last completion (each completion committed: durable). SQLite (a file,
 *   WAL) and PostgreSQL (a fresh database on BENCH_POSTGRES_URL, default the local server).
 * - Pickup latency: 300 jobs enqueued one at a time, 5 ms apart, to an idle worker; from the
 *   enqueue's commit to the handler's start, p50 and p99 (the in-process wake). On PostgreSQL
 *   also from another pool without a wake, as another process's enqueue (LISTEN/NOTIFY).
 * - BullMQ on redis://127.0.0.1:6379, the same counts and concurrency (addBulk of 100; the same
 *   latency loop), when the `bullmq` package is installed; otherwise that row says so.
 */

const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 16);
const LATENCY_JOBS = 300;
const BATCH = 100;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const silent = { error: console.error, warn: () => {}, info: () => {}, debug: () => {} };

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function parleyQueue(target) {
  const store = await openStore(target, { postgresPoolSize: CONCURRENCY + 4 });
  const organizationId = newId();
  await store.write((w) =>
    w.organizations.ensure({ id: organizationId, name: `bench-${organizationId}`, now: new Date().toISOString() }),
  );
  const started = new Map();
  const handler = {
    kind: 'bench_noop',
    run: async (job) => {
      started.set(job.id, performance.now());
      return { status: 'succeeded', errorMessage: null };
    },
  };
  const worker = new JobWorker({
    store,
    clock: systemClock,
    newId,
    handlers: [handler],
    concurrency: CONCURRENCY,
    leaseMs: 30_000,
    timeoutMs: 60_000,
    backoff: { kind: 'exponential', baseMs: 1000, maxMs: 60_000 },
    pollMs: 1000,
    log: silent,
  });
  const enqueuer = (through, wake) => async (count) => {
    const ids = Array.from({ length: count }, () => newId());
    const now = new Date().toISOString();
    // One multi-row INSERT per batch, as BullMQ's addBulk is one round trip.
    const jobs = ids.map((id) => ({
      id,
      organization_id: organizationId,
      kind: 'bench_noop',
      subject_id: id,
      max_attempts: 3,
      progress: {},
      now,
    }));
    await through.write((w) => w.jobs.enqueueMany(jobs));
    if (wake) worker.wake();
    return ids;
  };
  const enqueue = enqueuer(store, true);
  worker.start();

  // Throughput.
  const t0 = performance.now();
  const all = [];
  for (let sent = 0; sent < JOBS; sent += BATCH) all.push(...(await enqueue(Math.min(BATCH, JOBS - sent))));
  await waitAllSucceeded(target, all.length);
  const seconds = (performance.now() - t0) / 1000;

  const latencies = await pickupLatencies(enqueue, started);
  // PostgreSQL: enqueued through another pool (another process, to the server), with no wake: the
  // worker hears of it by LISTEN/NOTIFY (migration 0025), else at its next poll.
  let remote = null;
  if (target.kind === 'postgres') {
    const other = await openStore(target, { postgresPoolSize: 4 });
    // BENCH_QUEUE_NO_NOTIFY=1: the trigger dropped, the worker finds the jobs by polling (the baseline).
    if (process.env.BENCH_QUEUE_NO_NOTIFY === '1') await dropNotifyTrigger(target.connectionString);
    remote = await pickupLatencies(enqueuer(other, false), started);
    await other.close();
  }
  await worker.stop();
  await store.close();
  const result = { rate: JOBS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  return remote === null ? result : { ...result, remote: { p50: percentile(remote, 50), p99: percentile(remote, 99) } };
}

async function dropNotifyTrigger(connectionString) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query('drop trigger jobs_notify on jobs');
  await client.end();
}

/** LATENCY_JOBS jobs enqueued one at a time, 5 ms apart: from each enqueue's commit to its handler's start. */
async function pickupLatencies(enqueue, started) {
  const latencies = [];
  for (let index = 0; index < LATENCY_JOBS; index += 1) {
    const [id] = await enqueue(1);
    const committed = performance.now();
    while (!started.has(id)) await nextTurn();
    latencies.push(started.get(id) - committed);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return latencies;
}

/** Until `count` jobs have succeeded: one count every 20 ms on a connection of its own (completions are commits). */
async function waitAllSucceeded(target, count) {
  const inspector = openDatabase(target, { postgresPoolSize: 1 });
  try {
    for (;;) {
      const row = await inspector.reader
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll().as('count'))
        .where('status', '=', 'succeeded')
        .executeTakeFirstOrThrow();
      if (Number(row.count) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await inspector.close();
  }
}

/**
 * BullMQ with Redis appending every write to its AOF and fsyncing it before answering
 * (`appendfsync always`): durable per completion, as Parley's queue is. The local Redis runs with
 * no persistence at all (the other BullMQ row); the settings are restored afterwards.
 */
async function bullmqDurable() {
  const { Redis } = await import('ioredis');
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const before = {
    appendonly: (await redis.config('GET', 'appendonly'))[1],
    appendfsync: (await redis.config('GET', 'appendfsync'))[1],
  };
  try {
    await redis.config('SET', 'appendonly', 'yes');
    await redis.config('SET', 'appendfsync', 'always');
    return await bullmq();
  } finally {
    await redis.config('SET', 'appendfsync', before.appendfsync);
    await redis.config('SET', 'appendonly', before.appendonly);
    await redis.quit();
  }
}

async function bullmq() {
  let module;
  try {
    module = await import('bullmq');
  } catch {
    return null;
  }
  const { Queue, Worker } = module;
  const connection = { host: '127.0.0.1', port: 6379 };
  const name = `parley-bench-${Date.now()}`;
  const queue = new Queue(name, { connection });
  const started = new Map();
  let completed = 0;
  let resolveAll;
  const allDone = new Promise((resolve) => (resolveAll = resolve));
  const worker = new Worker(
    name,
    async (job) => {
      started.set(job.id, performance.now());
    },
    { connection, concurrency: CONCURRENCY },
  );
  worker.on('completed', () => {
    completed += 1;
    if (completed === JOBS) resolveAll();
  });
  await worker.waitUntilReady();
  const t0 = performance.now();
  for (let sent = 0; sent < JOBS; sent += BATCH) {
    const count = Math.min(BATCH, JOBS - sent);
    await queue.addBulk(Array.from({ length: count }, (_, index) => ({ name: 'noop', data: { index: sent + index } })));
  }
  await allDone;
  const seconds = (performance.now() - t0) / 1000;
  const latencies = [];
  for (let index = 0; index < LATENCY_JOBS; index += 1) {
    const job = await queue.add('noop', { index });
    const committed = performance.now();
    while (!started.has(job.id)) await nextTurn();
    latencies.push(started.get(job.id) - committed);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { rate: JOBS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function withPostgres(work) {
  const name = `parley_bench_queue_${process.pid}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    return await work({ kind: 'postgres', connectionString: url.toString() });
  } finally {
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
}

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-queue-'));
const rows = [];
const line = (label, result) =>
  result === null
    ? `| ${label} | not installed (npm install --save-dev --save-exact bullmq) | | |`
    : `| ${label} | ${Math.round(result.rate).toLocaleString('en')} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} |`;
// BENCH_QUEUE_ONLY=sqlite|postgres|bullmq|bullmq-durable (comma-separated) runs some of them (for profiling); the comparison needs all three.
const only = process.env.BENCH_QUEUE_ONLY;
const runs = only ? only.split(',') : ['sqlite', 'postgres', 'bullmq', 'bullmq-durable'];
try {
  if (runs.includes('sqlite')) {
    const target = { kind: 'sqlite', filename: path.join(directory, 'q.db') };
    rows.push(line('Parley, SQLite (file, WAL)', await parleyQueue(target)));
  }
  if (runs.includes('postgres')) {
    const result = await withPostgres((target) => parleyQueue(target));
    rows.push(line('Parley, PostgreSQL', result));
    const { p50, p99 } = result.remote;
    rows.push(
      `| Parley, PostgreSQL, pickup of another process's enqueue (${process.env.BENCH_QUEUE_NO_NOTIFY === '1' ? 'polling only' : 'NOTIFY'}) | — | ${p50.toFixed(1)} | ${p99.toFixed(1)} |`,
    );
  }
  if (runs.includes('bullmq')) rows.push(line('BullMQ, Redis (no persistence: the local default)', await bullmq()));
  if (runs.includes('bullmq-durable')) {
    rows.push(line('BullMQ, Redis AOF `appendfsync always` (durable)', await bullmqDurable()));
  }
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
process.stdout.write(
  [
    `${JOBS.toLocaleString('en')} no-op jobs, concurrency ${CONCURRENCY}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)} at the end`,
    '',
    '| queue | jobs/s (enqueue → completed) | pickup p50 ms | pickup p99 ms |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n'),
);
