import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { runIfMain } from './lib/main.js';
import { fixed, markdownTable, summarize, textTable } from './lib/stats.js';

/**
 * The live bus: publish → receive latency of one thread event, through the in-process bus and
 * through Redis Pub/Sub between two live layers (two processes' worth of connections: A
 * publishes, B's one subscriber receives), in the same run. One event at a time, the next sent
 * once the last arrived, alternating the two buses in rounds so load drift hits both alike.
 * Needs `npm run build` (reads dist/) and Redis at REDIS_URL (default redis://127.0.0.1:6379).
 */

const settings = {
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  events: Number(process.env.BENCH_LIVE_BUS_EVENTS ?? 2000),
  rounds: Number(process.env.BENCH_LIVE_BUS_ROUNDS ?? 5),
};

export const benchmark = { name: 'live-bus', deadlineMs: 120_000, run, render };

const eventOf = (index) => ({
  id: { seq: 7, delta: index + 1 },
  type: 'text-delta',
  data: { message_id: 'm', run_id: 'r', step: 1, delta: `token ${index} ` },
});

/** Latencies (ms) of `count` events published one after the other on `publisher`, read on `subscriber`. */
async function measure(publisher, subscriber, threadId, count) {
  const latencies = [];
  let arrived = () => undefined;
  let sentAt = 0;
  const stop = subscriber.subscribe(threadId, () => {
    latencies.push(performance.now() - sentAt);
    arrived();
  });
  await subscriber.subscribed(threadId);
  for (let index = 0; index < count; index++) {
    const received = new Promise((resolve) => (arrived = resolve));
    sentAt = performance.now();
    publisher.publish(threadId, eventOf(index));
    await received;
  }
  stop();
  return latencies;
}

async function until(condition) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

export async function run() {
  const { createLiveLayer } = await import('../dist/runtime/live-layer.js');
  const { loadConfig } = await import('../dist/config.js');
  const log = pino({ level: 'silent' });
  const config = { ...loadConfig({}).live, redisUrl: settings.redisUrl, keyPrefix: `parley-bench:${randomUUID()}` };
  const memory = createLiveLayer({ ...config, redisUrl: undefined }, log);
  const processA = createLiveLayer(config, log);
  const processB = createLiveLayer(config, log);
  await until(() => processA.bus.live && processB.bus.live);
  const samples = { memory: [], redis: [] };
  try {
    await measure(processA.bus, processB.bus, 'warm-up', 200);
    for (let round = 0; round < settings.rounds; round++) {
      const threadId = randomUUID();
      samples.memory.push(...(await measure(memory.bus, memory.bus, threadId, settings.events)));
      samples.redis.push(...(await measure(processA.bus, processB.bus, threadId, settings.events)));
    }
  } finally {
    await Promise.all([memory.close(), processA.close(), processB.close()]);
  }
  const result = { settings, memory: summarize(samples.memory), redis: summarize(samples.redis), failures: [] };
  const rows = tableRows(result);
  console.log(textTable(['bus', 'events', 'p50 ms', 'p99 ms', 'max ms'], rows));
  console.log(`\n${render(result)}`);
  return result;
}

function tableRows(result) {
  return [
    ['in process (MemoryLiveBus)', result.memory],
    ['Redis Pub/Sub, A → B', result.redis],
  ].map(([name, stats]) => [name, String(stats.count), fixed(stats.p50, 3), fixed(stats.p99, 3), fixed(stats.max, 3)]);
}

export function render(result) {
  return markdownTable(['bus', 'events', 'p50 ms', 'p99 ms', 'max ms'], tableRows(result), [
    false,
    true,
    true,
    true,
    true,
  ]);
}

runIfMain(import.meta.url, benchmark);
