import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findFreePort, startNode, stopChild, waitForHttpOk, waitForIdle, waitForOutput } from './children.js';
import { requestJson } from './http-json.js';

/**
 * A Parley server in a child process (`node dist/cli/main.js serve`, as operators run it) and a
 * small JSON client for the API calls the benchmarks need. The server never shares an event loop
 * with the client that measures it.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const HOST = '127.0.0.1';
/** The built-in blank template (src/features/agents/templates.ts). */
export const BLANK_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000001';
const KEY_PATTERN = /\bpk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}\b/;

/**
 * The benchmarks measure throughput with one key, not rate limits: the per-key and
 * per-organisation limits are off, unless BENCH_RATE_LIMIT_PER_MINUTE sets both to a budget large
 * enough to admit everything — then what counting costs is measured (docs/performance.md).
 */
const perMinute = process.env.BENCH_RATE_LIMIT_PER_MINUTE ?? '0';
export const RATE_LIMIT_ENV = Object.freeze({ RATE_LIMIT_PER_KEY: perMinute, RATE_LIMIT_PER_ORG: perMinute });

/**
 * Starts Parley on `databaseFile`. On an empty database the bootstrap admin key is read from
 * stdout; when restarting on a seeded one, pass the `apiKey` read at first start.
 */
export async function startParley({
  name = 'parley',
  databaseFile,
  env = {},
  apiKey,
  openFiles = 0,
  heapSnapshots = false,
}) {
  const port = await findFreePort(HOST);
  // Snapshots are written next to the database (a benchmark's temporary directory).
  const snapshotDirectory = path.join(path.dirname(databaseFile), 'heap-snapshots');
  if (heapSnapshots) fs.mkdirSync(snapshotDirectory, { recursive: true });
  const handle = startNode({
    name,
    script: CLI,
    args: ['serve'],
    // For diagnosis only, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    nodeArgs: [
      ...(heapSnapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDirectory}`] : []),
      ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
    openFiles,
    env: {
      PORT: String(port),
      HOST,
      LOG_LEVEL: 'warn',
      DATABASE_URL: `sqlite:${databaseFile}`,
      ...RATE_LIMIT_ENV,
      ...env,
    },
  });
  const baseUrl = `http://${HOST}:${port}`;
  const key = apiKey ?? (await waitForOutput(handle, KEY_PATTERN))[0];
  await waitForHttpOk(handle, `${baseUrl}/readyz`);
  return { handle, pid: handle.pid, baseUrl, apiKey: key, snapshotDirectory: heapSnapshots ? snapshotDirectory : null };
}

/**
 * The server's live JavaScript heap, from a heap snapshot (the server must have been started
 * with `heapSnapshots`). Taking a snapshot runs a full garbage collection first, so unlike RSS
 * this shrinks when memory is freed: it tells memory still referenced from garbage not yet
 * collected. `bytes` is the sum of every object's own size; `byType` (with `top`) names the
 * largest kinds of object, for diagnosis. It waits for the server to be at rest first. The
 * snapshot makes the process's RSS jump: take RSS figures before the first one.
 */
export async function liveHeap(parley, { top = 0, timeoutMs = 30_000 } = {}) {
  const directory = parley.snapshotDirectory;
  if (!directory) throw new Error('the server was not started with heapSnapshots');
  // A snapshot taken while the server is still tearing down closed streams would count them.
  await waitForIdle(parley.pid);
  const existing = new Set(fs.readdirSync(directory));
  process.kill(parley.pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let file = null;
  let size = -1;
  // The file appears at once and grows while it is written: done when its size stops changing.
  for (;;) {
    await sleep(300);
    if (Date.now() > deadline) throw new Error(`no complete heap snapshot within ${timeoutMs} ms`);
    file ??= fs.readdirSync(directory).find((name) => name.endsWith('.heapsnapshot') && !existing.has(name)) ?? null;
    if (file === null) continue;
    const current = fs.statSync(path.join(directory, file)).size;
    if (current > 0 && current === size && endsJson(path.join(directory, file))) break;
    size = current;
  }
  const snapshot = JSON.parse(fs.readFileSync(path.join(directory, file), 'utf8'));
  fs.rmSync(path.join(directory, file));
  return summarizeSnapshot(snapshot, top);
}

function summarizeSnapshot(snapshot, top) {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const { nodes, strings } = snapshot;
  const byType = new Map();
  let bytes = 0;
  for (let index = 0; index < nodes.length; index += width) {
    const selfSize = nodes[index + sizeAt];
    bytes += selfSize;
    if (top > 0) {
      const type = types[nodes[index + typeAt]];
      // Objects are told apart by constructor; strings, code and the like only by kind.
      const key = type === 'object' ? strings[nodes[index + nameAt]] : `(${type})`;
      const entry = byType.get(key) ?? { count: 0, bytes: 0 };
      entry.count += 1;
      entry.bytes += selfSize;
      byType.set(key, entry);
    }
  }
  return {
    bytes,
    objects: nodes.length / width,
    byType: [...byType].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top),
  };
}

/** A complete snapshot is one JSON object: its last byte is the closing brace. */
function endsJson(file) {
  const handle = fs.openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    fs.readSync(handle, last, 0, 1, fs.fstatSync(handle).size - 1);
    return last.toString() === '}';
  } finally {
    fs.closeSync(handle);
  }
}

/** SIGTERM and wait; a clean stop is exit code 0 (a graceful shutdown that drained everything). */
export async function stopParley(parley) {
  const outcome = await stopChild(parley.handle, 20_000);
  return { ...outcome, clean: outcome.code === 0 && !outcome.killed };
}

/** The API calls the benchmarks make, bound to one server and key. */
export function apiClient(parley) {
  const headers = { 'x-api-key': parley.apiKey };
  const call = async (method, route, body, expected = 200) => {
    const response = await requestJson({ url: `${parley.baseUrl}${route}`, method, headers, body });
    if (response.status !== expected) {
      throw new Error(
        `${method} ${route} answered ${response.status} (expected ${expected}): ${response.text.slice(0, 500)}`,
      );
    }
    return response.json;
  };
  return {
    headers,
    createAgent: (configuration) =>
      call('POST', '/api/v1/agents', { name: 'bench', configuration, template_id: BLANK_TEMPLATE_ID }),
    createThread: (agentId) =>
      call('POST', `/api/v1/chat/${agentId}/threads`, {
        agent_id: agentId,
        title: 'bench',
        metadata: { source: 'bench' },
      }),
    listMessages: (agentId, threadId, query = '') =>
      call('GET', `/api/v1/chat/${agentId}/threads/${threadId}/messages${query}`),
    /** A user message through the non-streaming route: it waits for the stored reply. */
    postMessage: (agentId, threadId, content) =>
      call('POST', `/api/v1/chat/${agentId}/threads/${threadId}/messages`, { role: 'user', content }),
  };
}

/** Creates `count` threads with at most `concurrency` requests in flight. */
export async function createThreads(api, agentId, count, concurrency = 16) {
  const ids = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      ids[index] = (await api.createThread(agentId)).id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}
