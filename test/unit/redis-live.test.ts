import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveLayer, type LiveLayer } from '../../src/runtime/live-layer.js';
import type { LiveEvent } from '../../src/runtime/live-bus.js';
import { REDIS_URL, liveConfig } from '../helpers/live-redis.js';
import { pollUntil } from '../helpers/sse-client.js';

/**
 * The Redis live layer's parts on the real local Redis, under a fresh key prefix: one
 * subscription per channel however many listen, a replay stream per thread with its hash-tagged
 * key, its id-based reads, its bound and its expiry.
 */

const prefix = `parley-test:${randomUUID()}`;
const TTL_SECONDS = 120;
let live: LiveLayer;
let redis: Redis;
beforeAll(async () => {
  live = createLiveLayer(
    { ...liveConfig(REDIS_URL, prefix), replayMaxLength: 100, replayTtlSeconds: TTL_SECONDS },
    pino({ level: 'silent' }),
  );
  redis = new Redis(REDIS_URL);
  await pollUntil(() => (live.bus.live ? true : undefined), { timeoutMs: 20_000, what: 'the live layer' });
});
afterAll(async () => {
  await live?.close();
  redis?.disconnect();
});

const delta = (text: string) => ({
  type: 'text-delta' as const,
  data: { message_id: 'm', run_id: 'r', step: 1, delta: text },
});

describe('the Redis live bus', () => {
  it('subscribes a thread’s channel once for all its listeners, and leaves it with the last', async () => {
    const threadId = randomUUID();
    const channel = `${prefix}:{thread:${threadId}}:live`;
    const seen: string[][] = [[], []];
    const stops = seen.map((list) => live.bus.subscribe(threadId, (event) => list.push(formatted(event))));
    await live.bus.subscribed(threadId);
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);

    live.bus.publish(threadId, { id: { seq: 3, delta: 1 }, ...delta('hi') } as LiveEvent);
    await pollUntil(() => (seen.every((list) => list.length === 1) ? true : undefined));
    expect(seen).toEqual([['3.1 text-delta'], ['3.1 text-delta']]);
    expect(live.bus.subscriberCount).toBe(2);

    stops[0]!();
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    stops[1]!();
    await pollUntil(async () => ((await redis.pubsub('NUMSUB', channel))[1] === 0 ? true : undefined));
    expect(live.bus.subscriberCount).toBe(0);
  });
});

describe('the Redis replay stream', () => {
  it('keeps a thread’s deltas under its hash-tagged key, numbered after the latest durable event', async () => {
    const threadId = randomUUID();
    const key = `${prefix}:{thread:${threadId}}:deltas`;
    const published: string[] = [];
    const stop = live.bus.subscribe(threadId, (event) => published.push(formatted(event)));
    await live.bus.subscribed(threadId);
    durable(threadId, 4);
    for (const text of ['a', 'b', 'c']) live.deltas.publishTransient(live.bus, threadId, delta(text));
    durable(threadId, 6);
    live.deltas.publishTransient(live.bus, threadId, delta('d'));
    await pollUntil(async () => ((await redis.xlen(key)) === 4 && published.length === 6 ? true : undefined));
    stop();
    // Published in id order, durable events included.
    expect(published).toEqual([
      '4.0 message-start',
      '4.1 text-delta',
      '4.2 text-delta',
      '4.3 text-delta',
      '6.0 message-start',
      '6.1 text-delta',
    ]);

    const after = async (seq: number, n: number) =>
      (await live.deltas.after(threadId, { seq, delta: n })).map(formatted);
    expect(await after(0, 0)).toEqual(['4.1 text-delta', '4.2 text-delta', '4.3 text-delta', '6.1 text-delta']);
    expect(await after(4, 2)).toEqual(['4.3 text-delta', '6.1 text-delta']);
    expect(await after(5, 0)).toEqual(['6.1 text-delta']);
    expect(await after(6, 1)).toEqual([]);
    for (const part of ['deltas', 'state']) {
      const ttl = await redis.ttl(`${prefix}:{thread:${threadId}}:${part}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);
    }
  });

  it('numbers after a durable event another process published, never going back to an older one', async () => {
    const threadId = randomUUID();
    const key = `${prefix}:{thread:${threadId}}:deltas`;
    const other = createLiveLayer(liveConfig(REDIS_URL, prefix), pino({ level: 'silent' }));
    try {
      await pollUntil(() => (other.bus.live ? true : undefined), { timeoutMs: 20_000, what: 'the other layer' });
      durable(threadId, 2);
      live.deltas.publishTransient(live.bus, threadId, delta('a'));
      other.deltas.publishDurable(other.bus, threadId, durableEvent(3));
      await pollUntil(async () =>
        (await redis.hget(`${prefix}:{thread:${threadId}}:state`, 's')) === '3' ? true : undefined,
      );
      live.deltas.publishTransient(live.bus, threadId, delta('b'));
      // A late publish of an older durable event does not move the count back.
      durable(threadId, 2);
      live.deltas.publishTransient(live.bus, threadId, delta('c'));
      await pollUntil(async () => ((await redis.xlen(key)) === 3 ? true : undefined));
      expect((await live.deltas.after(threadId, { seq: 0, delta: 0 })).map(formatted)).toEqual([
        '2.1 text-delta',
        '3.1 text-delta',
        '3.2 text-delta',
      ]);
    } finally {
      await other.close();
    }
  });

  it('is bounded: MAXLEN ~ trims whole nodes past the configured length', async () => {
    const threadId = randomUUID();
    const key = `${prefix}:{thread:${threadId}}:deltas`;
    durable(threadId, 1);
    for (let index = 0; index < 1000; index++) live.deltas.publishTransient(live.bus, threadId, delta(`t${index}`));
    await pollUntil(async () => {
      const last = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
      return last[0]?.[0] === '1-1000' ? true : undefined;
    });
    // `~` trims in whole stream nodes (100 entries each by default): at most one node over.
    const length = await redis.xlen(key);
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThanOrEqual(200);
    const kept = await live.deltas.after(threadId, { seq: 0, delta: 0 });
    expect(kept.at(-1)!.id).toEqual({ seq: 1, delta: 1000 });
    expect(kept).toHaveLength(length);
  });
});

function durableEvent(seq: number): LiveEvent {
  return { id: { seq, delta: 0 }, type: 'message-start', data: { message_id: 'm', role: 'assistant', run_id: 'r' } };
}

function durable(threadId: string, seq: number): void {
  live.deltas.publishDurable(live.bus, threadId, durableEvent(seq));
}

function formatted(event: LiveEvent): string {
  return `${event.id.seq}.${event.id.delta} ${event.type}`;
}
