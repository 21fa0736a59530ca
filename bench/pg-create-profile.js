import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createBenchDatabase } from './lib/postgres.js';

/**
 * `node bench/pg-create-profile.js` (after `npm run build`): what one durable thread create costs
 * on PostgreSQL, in process (`app.inject`, 100 at a time), counted on the wire rather than timed:
 * statements per create by kind (both pools), socket writes (flushes) per create and creates per
 * commit. PROFILE_COUNT sets the creates (5,000) after 1,000
 * warm-up creates. Prints a table; docs/performance.md records a run.
 */
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const COUNT = Number(process.env.PROFILE_COUNT ?? 5000);
const CONCURRENCY = 100;
const BLANK_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000001';

const { createApp } = await import(path.join(DIST, 'app.js'));
const { loadConfig } = await import(path.join(DIST, 'config.js'));
const { openStore } = await import(path.join(DIST, 'storage', 'store.js'));

/** Every statement a pg client sends, by its first words, and every socket write. */
const counts = { statements: new Map(), socketWrites: 0, on: false };
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(config, ...rest) {
  if (counts.on) {
    const text = typeof config === 'string' ? config : config.text;
    const kind = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    counts.statements.set(kind, (counts.statements.get(kind) ?? 0) + 1);
    const stream = this.connection?.stream;
    if (stream && !stream.__counted) {
      stream.__counted = true;
      // After corking, pg's messages reach the socket as one _writev (or _write) per flush.
      for (const method of ['_write', '_writev']) {
        const original = stream[method];
        stream[method] = function countedWrite(...args) {
          if (counts.on) counts.socketWrites += 1;
          return original.apply(this, args);
        };
      }
    }
  }
  return originalQuery.call(this, config, ...rest);
};

async function main() {
  const database = await createBenchDatabase();
  const defaults = loadConfig({ DATABASE_URL: database.url });
  const store = await openStore(defaults.database, { postgresPoolSize: defaults.postgresPoolSize });
  const parley = await createApp({
    config: {
      ...defaults,
      logLevel: 'warn',
      secretKey: Buffer.alloc(32, 7),
      secretKeyFile: undefined,
      rateLimits: { ...defaults.rateLimits, perKeyPerMinute: 0, perOrganizationPerMinute: 0 },
    },
    store,
  });
  try {
    const send = await createRequest(parley);
    await run(send, 1000);
    const before = process.cpuUsage();
    counts.on = true;
    const started = performance.now();
    await run(send, COUNT);
    const wallMs = performance.now() - started;
    counts.on = false;
    const used = process.cpuUsage(before);
    report({ wallMs, cpuMicros: used.user + used.system });
  } finally {
    await parley.shutdown(0);
    await store.close();
    await database.drop();
  }
}

async function createRequest(parley) {
  const created = await parley.keys.create({ organization: { name: 'bench' }, userName: 'bench', scopes: ['admin'] });
  const headers = { 'x-api-key': created.key, 'content-type': 'application/json' };
  const payload = JSON.stringify({ name: 'bench', configuration: {}, template_id: BLANK_TEMPLATE_ID });
  const agent = JSON.parse((await parley.app.inject({ method: 'POST', url: '/api/v1/agents', headers, payload })).body);
  const thread = JSON.stringify({ agent_id: agent.id, title: 'bench', metadata: { source: 'bench' } });
  return async () => {
    const response = await parley.app.inject({
      method: 'POST',
      url: `/api/v1/chat/${agent.id}/threads`,
      headers,
      payload: thread,
    });
    if (response.statusCode !== 200) throw new Error(`create answered ${response.statusCode}: ${response.body}`);
  };
}

async function run(send, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      await send();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function report({ wallMs, cpuMicros }) {
  const per = (n) => (n / COUNT).toFixed(3);
  const rows = [...counts.statements.entries()].sort((a, b) => b[1] - a[1]);
  console.log(`${COUNT} creates, ${CONCURRENCY} at a time, in process on PostgreSQL`);
  console.log(`creates/s ${Math.round((COUNT * 1000) / wallMs)}, CPU ${Math.round(cpuMicros / COUNT)} µs/create`);
  const commits = counts.statements.get('commit') ?? 0;
  if (commits > 0) console.log(`commits ${commits}: ${(COUNT / commits).toFixed(1)} creates per commit`);
  console.log(`socket writes ${counts.socketWrites} (${per(counts.socketWrites)} per create)`);
  console.log('statements per create:');
  for (const [kind, n] of rows) console.log(`  ${per(n).padStart(7)}  ${kind}`);
}

await main();
