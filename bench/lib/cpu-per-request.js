import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * CPU per request of one build of Parley in process (`app.inject`, so no load generator shares
 * the figure), for A/B benchmarks of a hot-path cost: a durable create (POST a thread) and a read
 * (GET an agent) on SQLite, each mode measured three times, alternating the order, medians and
 * every run printed. Used by bench/rate-limit-cost.js and bench/metrics-overhead.js.
 */
const CONCURRENCY = 50;
const BLANK_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000001';

/** The entry points of a built `dist/` (this checkout's or another's, for a base run). */
export async function loadBuild(root) {
  return {
    createApp: (await import(path.join(root, 'app.js'))).createApp,
    loadConfig: (await import(path.join(root, 'config.js'))).loadConfig,
    openStore: (await import(path.join(root, 'storage', 'store.js'))).openStore,
  };
}

/**
 * Runs every mode (`{ build, configure(defaults) → config overrides }`) for both kinds and prints
 * `kind: CPU µs per request, median (runs): …`, plus `ratio` (e.g. on/off) when given.
 */
export async function compareModes(modes, { count, ratio }) {
  const median = (values) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];
  for (const kind of ['create', 'read']) {
    const figures = Object.fromEntries(Object.keys(modes).map((mode) => [mode, []]));
    for (let round = 0; round < 3; round++) {
      const order = round % 2 === 0 ? Object.keys(modes) : Object.keys(modes).reverse();
      for (const mode of order) figures[mode].push(await cpuPerRequest(modes[mode], kind, count));
    }
    const line = Object.entries(figures).map(
      ([mode, values]) =>
        `${mode} ${median(values).toFixed(1)} (${values.map((value) => value.toFixed(1)).join(', ')})`,
    );
    const suffix = ratio
      ? `; ${ratio[0]}/${ratio[1]} ${(median(figures[ratio[0]]) / median(figures[ratio[1]])).toFixed(3)}`
      : '';
    console.log(`${kind}: CPU µs per request, median (runs): ${line.join('; ')}${suffix}`);
  }
}

async function cpuPerRequest({ build, configure }, kind, count) {
  const defaults = build.loadConfig({});
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-cpu-per-request-'));
  const database = { kind: 'sqlite', filename: path.join(directory, 'parley.db') };
  const store = await build.openStore(database);
  const parley = await build.createApp({
    config: {
      ...defaults,
      database,
      logLevel: 'warn',
      secretKey: Buffer.alloc(32, 7),
      secretKeyFile: undefined,
      ...configure(defaults),
    },
    store,
  });
  try {
    const send = await requests(parley, kind);
    await run(send, 2000);
    const before = process.cpuUsage();
    await run(send, count);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  } finally {
    await parley.shutdown(0);
    await store.close();
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

async function requests(parley, kind) {
  const created = await parley.keys.create({ organization: { name: 'bench' }, userName: 'bench', scopes: ['admin'] });
  const headers = { 'x-api-key': created.key, 'content-type': 'application/json' };
  const payload = JSON.stringify({ name: 'bench', configuration: {}, template_id: BLANK_TEMPLATE_ID });
  const agent = JSON.parse((await parley.app.inject({ method: 'POST', url: '/api/v1/agents', headers, payload })).body);
  if (kind === 'read') {
    return () => parley.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.id}`, headers });
  }
  const thread = JSON.stringify({ agent_id: agent.id, title: 'bench', metadata: { source: 'bench' } });
  return () => parley.app.inject({ method: 'POST', url: `/api/v1/chat/${agent.id}/threads`, headers, payload: thread });
}

async function run(send, count) {
  let started = 0;
  const worker = async () => {
    while (started++ < count) {
      const response = await send();
      if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}: ${response.body}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}
