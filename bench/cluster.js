import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cpuTimeMs, findFreePort, startNode, stopChild, waitForHttpOk, waitForOutput } from './lib/children.js';
import { pidsNamed, startMachineWindow, withChildren } from './lib/machine-cpu.js';
import { describeCode, describeMachine, machineSummary, replaceSection } from './lib/doc-section.js';
import { requestJson } from './lib/http-json.js';
import { runLoad } from './lib/load.js';
import { runIfMain } from './lib/main.js';
import { startNginx } from './lib/nginx.js';
import { BLANK_TEMPLATE_ID, RATE_LIMIT_ENV, ROOT } from './lib/parley.js';
import { createBenchDatabase } from './lib/postgres.js';
import { hrtimeMs, streamEvents } from './lib/sse.js';
import { fixed, markdownTable, summarize, whole } from './lib/stats.js';

/**
 * `npm run bench:cluster` (builds first): Parley deployed as docs/deploy.md says — processes on
 * one PostgreSQL database and one Redis (REDIS_URL, default the local one) behind nginx running
 * the shipped server block — measured three ways, each against a baseline from the same run:
 *
 * (a) durable thread creates per second through nginx, 3 processes against 1 (autocannon, 100
 *     connections), with the CPU per request of the servers and of nginx;
 * (b) the added latency of a follower on another process: two followers of one thread, one on the
 *     process that runs the reply and one on another; per text delta, the other one's arrival minus
 *     the same-process one's (both timed in this process on one monotonic clock);
 * (c) resume latency: a stream dropped mid-reply, reopened on another process with Last-Event-ID,
 *     until its first event arrives, against opening a stream on the same process.
 *
 * nginx, the servers, PostgreSQL, Redis and the load generator share the machine's cores.
 */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
/** BENCH_CLUSTER_CPU_PROFILE_DIR: each server writes a V8 CPU profile there as it exits (`<size>-of-<size>/`). */
const PROFILE_DIR = process.env.BENCH_CLUSTER_CPU_PROFILE_DIR;
const KEY_PATTERN = /\bpk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}\b/;
const settings = Object.freeze({
  connections: Number(process.env.BENCH_CLUSTER_CONNECTIONS ?? 100),
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2),
  durationSeconds: Number(process.env.BENCH_DURATION_SECONDS ?? 10),
  replies: Number(process.env.BENCH_CLUSTER_REPLIES ?? 20),
  resumes: Number(process.env.BENCH_CLUSTER_RESUMES ?? 40),
});

export async function startCluster(size) {
  const database = await createBenchDatabase();
  const env = {
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    REDIS_URL,
    PARLEY_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    DEMO_MODEL_WORDS_PER_SECOND: '40',
    ...RATE_LIMIT_ENV,
  };
  const servers = [];
  let apiKey;
  for (let index = 0; index < size; index++) {
    const port = await findFreePort();
    const handle = startNode({
      name: `parley-${index + 1}`,
      script: CLI,
      args: ['serve'],
      nodeArgs: PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', path.join(PROFILE_DIR, `${size}-of-${size}`)] : [],
      env: { ...env, PORT: String(port) },
    });
    if (index === 0) apiKey = (await waitForOutput(handle, KEY_PATTERN))[0];
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttpOk(handle, `${baseUrl}/readyz`);
    servers.push({ handle, port, baseUrl });
  }
  const nginx = await startNginx(servers.map((server) => server.port));
  const agent = await requestJson({
    url: `${nginx.baseUrl}/api/v1/agents`,
    method: 'POST',
    headers: { 'x-api-key': apiKey },
    body: { name: 'bench', configuration: {}, template_id: BLANK_TEMPLATE_ID },
  });
  if (agent.status !== 200) throw new Error(`agent: ${agent.status} ${agent.text}`);
  return {
    servers,
    nginx,
    apiKey,
    agentId: agent.json.id,
    async stop() {
      await nginx.stop();
      for (const server of servers) await stopChild(server.handle);
      await database.drop();
    },
  };
}

async function newThread(cluster) {
  const thread = await requestJson({
    url: `${cluster.nginx.baseUrl}/api/v1/chat/${cluster.agentId}/threads`,
    method: 'POST',
    headers: { 'x-api-key': cluster.apiKey },
    body: { title: 'bench' },
  });
  if (thread.status !== 200) throw new Error(`thread: ${thread.status} ${thread.text}`);
  return `/api/v1/chat/${cluster.agentId}/threads/${thread.json.id}`;
}

/**
 * (a) Creates through nginx; CPU summed over every server process, nginx's apart; the machine's
 * busy share over the measured window split by role; group-commit batch sizes from each
 * server's /metrics (warm-up and measured run together).
 */
export async function measureCreates(cluster) {
  const pids = cluster.servers.map((server) => server.handle.pid);
  const serversCpu = () => pids.reduce((sum, pid) => sum + (cpuTimeMs(pid) ?? 0), 0);
  const nginxBefore = nginxCpuMs(cluster.nginx.pid);
  const batchesBefore = await groupCommitBatches(cluster);
  const { measured } = await runLoad({
    url: `${cluster.nginx.baseUrl}/api/v1/chat/${cluster.agentId}/threads`,
    headers: { 'x-api-key': cluster.apiKey },
    body: { title: 'bench' },
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    durationSeconds: settings.durationSeconds,
    cpuTimeMs: serversCpu,
    startWindow: () =>
      startMachineWindow({
        servers: () => pids,
        nginx: () => withChildren(cluster.nginx.pid),
        postgres: () => pidsNamed('postgres'),
        redis: () => pidsNamed('redis-server'),
        load: () => [process.pid],
      }),
  });
  const batchesAfter = await groupCommitBatches(cluster);
  const responses = measured.ok + measured.non2xx;
  const nginxMs = nginxCpuMs(cluster.nginx.pid) - nginxBefore;
  const batches = batchesAfter.count - batchesBefore.count;
  return {
    ...measured,
    nginxCpuMicrosPerRequest: responses > 0 ? (nginxMs * 1000) / responses : null,
    meanBatchSize: batches > 0 ? (batchesAfter.sum - batchesBefore.sum) / batches : null,
  };
}

/** Group commits and the units they carried so far, summed over the servers (parley_db_group_commit_batch_size). */
async function groupCommitBatches(cluster) {
  const totals = { sum: 0, count: 0 };
  for (const server of cluster.servers) {
    const response = await requestJson({ url: `${server.baseUrl}/metrics` });
    for (const field of ['sum', 'count']) {
      const match = new RegExp(`^parley_db_group_commit_batch_size_${field}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(
        response.text ?? '',
      );
      totals[field] += match ? Number(match[1]) : 0;
    }
  }
  return totals;
}

/** CPU time of nginx's master and its worker processes (its children). */
function nginxCpuMs(masterPid) {
  const children = execFileSync('pgrep', ['-P', String(masterPid)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  return [masterPid, ...children.map(Number)].reduce((sum, pid) => sum + (cpuTimeMs(pid) ?? 0), 0);
}

/** (b) Per delta: arrival at a follower on another process minus arrival at one on the running process. */
async function measureFollowers(cluster) {
  const added = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  for (let reply = 0; reply < settings.replies; reply++) {
    const path = await newThread(cluster);
    const [owner, other] = [cluster.servers[0], cluster.servers[1 + (reply % (cluster.servers.length - 1))]];
    const arrivals = [new Map(), new Map()];
    const follow = (server, map) =>
      streamEvents({
        url: `${server.baseUrl}${path}/stream`,
        headers: { 'x-api-key': cluster.apiKey },
        agent,
        onEvent: (event, at) => {
          if (event.event === 'text-delta') map.set(event.id, at);
          return event.event === 'run-end' || event.event === 'run-error';
        },
      });
    const followers = [follow(owner, arrivals[0]), follow(other, arrivals[1])];
    await new Promise((resolve) => setTimeout(resolve, 100));
    await streamEvents({
      url: `${owner.baseUrl}${path}/messages/stream`,
      method: 'POST',
      headers: { 'x-api-key': cluster.apiKey },
      body: { role: 'user', content: 'hello' },
      agent,
      onEvent: () => false,
    });
    await Promise.all(followers);
    for (const [id, at] of arrivals[0]) if (arrivals[1].has(id)) added.push(arrivals[1].get(id) - at);
  }
  agent.destroy();
  return summarize(added);
}

/** (c) Time to the first event of a reopened stream, on the same process and on another. */
async function measureResumes(cluster) {
  const same = [];
  const other = [];
  for (let round = 0; round < settings.resumes; round++) {
    const path = await newThread(cluster);
    const owner = cluster.servers[0];
    let lastId;
    await streamEvents({
      url: `${owner.baseUrl}${path}/messages/stream`,
      method: 'POST',
      headers: { 'x-api-key': cluster.apiKey },
      body: { role: 'user', content: 'hello' },
      onEvent: (event) => {
        if (event.id) lastId = event.id;
        return event.event === 'text-delta';
      },
    });
    const target = round % 2 === 0 ? cluster.servers[1] : owner;
    const started = hrtimeMs();
    let firstAt = null;
    await streamEvents({
      url: `${target.baseUrl}${path}/stream`,
      headers: { 'x-api-key': cluster.apiKey, 'last-event-id': lastId },
      onEvent: (_event, at) => {
        firstAt = at;
        return true;
      },
    });
    (target === owner ? same : other).push(firstAt - started);
  }
  return { same: summarize(same), other: summarize(other) };
}

const benchmark = {
  name: 'bench:cluster',
  deadlineMs: 15 * 60_000,
  async run() {
    const started = new Date().toISOString();
    const one = await startCluster(1);
    const single = await measureCreates(one).finally(() => one.stop());
    const three = await startCluster(3);
    let result;
    try {
      const triple = await measureCreates(three);
      const followers = await measureFollowers(three);
      const resumes = await measureResumes(three);
      result = {
        started,
        settings,
        machine: describeMachine(),
        code: describeCode(ROOT),
        single,
        triple,
        followers,
        resumes,
      };
    } finally {
      await three.stop();
    }
    const failures = [single, result.triple]
      .filter((load) => load.non2xx > 0 || load.errors > 0)
      .map((load) => `creates answered ${load.non2xx} non-2xx and ${load.errors} errors`);
    replaceSection({ file: path.join(ROOT, 'docs', 'performance.md'), name: 'cluster', body: render(result) });
    console.log(render(result));
    return { ...result, failures };
  },
};

export function render(result) {
  const { single, triple, followers, resumes } = result;
  const creates = markdownTable(
    [
      'processes behind nginx',
      'creates/s',
      'p50 ms',
      'p99 ms',
      'server CPU µs/req',
      'nginx CPU µs/req',
      'units per commit',
      'machine busy',
    ],
    [single, triple].map((load, index) => [
      index === 0 ? '1' : '3',
      whole(load.requestsPerSecond),
      fixed(load.latencyP50Ms, 0),
      fixed(load.latencyP99Ms, 0),
      whole(load.serverCpuMicrosPerRequest),
      whole(load.nginxCpuMicrosPerRequest),
      fixed(load.meanBatchSize, 1),
      percent(load.window?.busyShare),
    ]),
  );
  const split = [single, triple].map(
    (load, index) =>
      `${index === 0 ? '1 process' : '3 processes'}: ${
        load.window
          ? Object.entries(load.window.shares)
              .map(([role, share]) => `${role} ${percent(share)}`)
              .join(', ')
          : 'no /proc/stat'
      }`,
  );
  return [
    `Run: ${result.started}, code ${result.code}. ${machineSummary(result.machine)}`,
    '',
    `**(a) Durable creates** (\`POST …/threads\`, ${settings.connections} connections, ${settings.durationSeconds} s after ${settings.warmupSeconds} s warm-up), PostgreSQL + Redis, through nginx. Ratio 3 / 1: **${fixed(triple.requestsPerSecond / single.requestsPerSecond)}** (aim ≥ 1.6).`,
    '',
    creates,
    '',
    `Machine CPU over each measured window (/proc/stat; shares of ${cpuCount()} cores × the window, by pid): ${split.join('; ')}.`,
    '',
    `**(b) A follower on another process**: added latency per text delta (other − same process), ${whole(followers.count)} deltas over ${settings.replies} replies: p50 ${fixed(followers.p50)} ms, p99 **${fixed(followers.p99)} ms** (aim < 5 ms), max ${fixed(followers.max)} ms.`,
    '',
    `**(c) Resume after a dropped connection** (reopen with \`Last-Event-ID\`, until the first event): on another process p50 ${fixed(resumes.other.p50)} ms, p99 ${fixed(resumes.other.p99)} ms; on the same process (baseline) p50 ${fixed(resumes.same.p50)} ms, p99 ${fixed(resumes.same.p99)} ms; ${resumes.other.count + resumes.same.count} resumes.`,
  ].join('\n');
}

function percent(share) {
  return share === undefined || share === null ? '–' : `${Math.round(share * 100)} %`;
}

function cpuCount() {
  return os.cpus().length;
}

runIfMain(import.meta.url, benchmark);
