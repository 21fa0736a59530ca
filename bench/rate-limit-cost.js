/**
 * `npm run build && node bench/rate-limit-cost.js`: what the per-key and per-organisation rate
 * limits cost on the hot path, in process (`app.inject`, so no load generator shares the CPU
 * figure): CPU µs per request with the limits off, then on with budgets too high to refuse,
 * alternating three times for a read (GET an agent) and a durable create (POST a thread) on
 * SQLite. Prints the medians; docs/performance.md, "Rate limits", records a run. AB_COUNT sets
 * the requests per run (20,000).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { openStore } from '../dist/storage/store.js';

const defaults = loadConfig({});
const MODES = {
  off: { perKeyPerMinute: 0, perOrganizationPerMinute: 0 },
  on: { perKeyPerMinute: 100_000_000, perOrganizationPerMinute: 100_000_000 },
};
const COUNT = Number(process.env.AB_COUNT ?? 20000);

async function measure(mode, kind) {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-rl-'));
  const database = { kind: 'sqlite', filename: path.join(directory, 'db.sqlite') };
  const store = await openStore(database);
  const parley = await createApp({
    config: {
      ...defaults,
      database,
      logLevel: 'warn',
      secretKey: Buffer.alloc(32, 7),
      secretKeyFile: undefined,
      models: { ...defaults.models, demoWordsPerSecond: 0 },
      rateLimits: { ...defaults.rateLimits, ...MODES[mode] },
    },
    store,
  });
  const created = await parley.keys.create({
    organization: { name: 'ab' },
    userName: 'ab',
    scopes: ['read', 'write', 'admin'],
  });
  const headers = { 'x-api-key': created.key, 'content-type': 'application/json' };
  const agent = JSON.parse(
    (
      await parley.app.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers,
        payload: JSON.stringify({ name: 'ab', configuration: {}, template_id: '0b6a3c1e-5f1d-4a7e-9c2b-000000000001' }),
      })
    ).body,
  );
  const one =
    kind === 'read'
      ? () =>
          parley.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.id}`, headers: { 'x-api-key': created.key } })
      : () =>
          parley.app.inject({
            method: 'POST',
            url: `/api/v1/chat/${agent.id}/threads`,
            headers,
            payload: JSON.stringify({ agent_id: agent.id, title: 'bench', metadata: { source: 'bench' } }),
          });
  const run = async (count) => {
    let next = 0;
    let bad = 0;
    const worker = async () => {
      while (next++ < count) {
        const r = await one();
        if (r.statusCode !== 200) bad++;
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    if (bad) throw new Error(`${bad} non-200`);
  };
  await run(2000);
  const before = process.cpuUsage();
  await run(COUNT);
  const used = process.cpuUsage(before);
  await parley.shutdown(0);
  await store.close();
  fs.rmSync(directory, { recursive: true, force: true });
  return (used.user + used.system) / COUNT;
}

for (const kind of ['read', 'create']) {
  const figures = { off: [], on: [] };
  for (let round = 0; round < 3; round++)
    for (const mode of round % 2 ? ['on', 'off'] : ['off', 'on']) figures[mode].push(await measure(mode, kind));
  const median = (values) => [...values].sort((a, b) => a - b)[1];
  console.log(
    kind,
    JSON.stringify({ off: figures.off.map((v) => v.toFixed(1)), on: figures.on.map((v) => v.toFixed(1)) }),
    'median off',
    median(figures.off).toFixed(1),
    'on',
    median(figures.on).toFixed(1),
    'µs/request',
  );
}
