import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench:metrics`: what metrics cost on the hot path, in process (`app.inject`, so no
 * load generator shares the CPU figure): CPU µs per request with METRICS_ENABLED=false, then
 * true, alternating three times for a durable create (POST a thread) and a read (GET an agent)
 * on SQLite; the ratio on/off is the figure (same run, same machine). Tracing stays off (no
 * endpoint), as a server without OTEL_EXPORTER_OTLP_ENDPOINT runs. Prints every run and the
 * medians; docs/performance.md, "Observability", records a run. AB_COUNT sets the requests per
 * run (20,000).
 */
const OWN_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const COUNT = Number(process.env.AB_COUNT ?? 20000);
const CONCURRENCY = 50;
const BLANK_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000001';
const ON = { metricsEnabled: true };
const OFF = { metricsEnabled: false };

async function load(root) {
  return {
    createApp: (await import(path.join(root, 'app.js'))).createApp,
    loadConfig: (await import(path.join(root, 'config.js'))).loadConfig,
    openStore: (await import(path.join(root, 'storage', 'store.js'))).openStore,
  };
}

const own = await load(OWN_DIST);
const modes = {
  off: { build: own, limits: OFF },
  on: { build: own, limits: ON },
};

async function measure(mode, kind) {
  const { build, limits } = modes[mode];
  const defaults = build.loadConfig({});
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-metrics-overhead-'));
  const database = { kind: 'sqlite', filename: path.join(directory, 'parley.db') };
  const store = await build.openStore(database);
  const parley = await build.createApp({
    config: {
      ...defaults,
      database,
      logLevel: 'warn',
      secretKey: Buffer.alloc(32, 7),
      secretKeyFile: undefined,
      rateLimits: { ...defaults.rateLimits, perKeyPerMinute: 0, perOrganizationPerMinute: 0 },
      observability: { ...defaults.observability, ...limits },
    },
    store,
  });
  try {
    const send = await requests(parley, kind);
    await run(send, 2000);
    const before = process.cpuUsage();
    await run(send, COUNT);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / COUNT;
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

const median = (values) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];
for (const kind of ['create', 'read']) {
  const figures = Object.fromEntries(Object.keys(modes).map((mode) => [mode, []]));
  for (let round = 0; round < 3; round++) {
    const order = round % 2 === 0 ? Object.keys(modes) : Object.keys(modes).reverse();
    for (const mode of order) figures[mode].push(await measure(mode, kind));
  }
  const line = Object.entries(figures).map(
    ([mode, values]) => `${mode} ${median(values).toFixed(1)} (${values.map((value) => value.toFixed(1)).join(', ')})`,
  );
  const ratio = median(figures.on) / median(figures.off);
  console.log(`${kind}: CPU µs per request, median (runs): ${line.join('; ')}; on/off ${ratio.toFixed(3)}`);
}
