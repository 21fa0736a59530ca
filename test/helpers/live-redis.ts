import { expect } from 'vitest';
import type { ParleyApp } from '../../src/app.js';
import { loadConfig, type LiveConfig } from '../../src/config.js';
import { createTestContext, type TestContext, type TestPeer } from './harness.js';
import { idParts, pollUntil, type SseEvent } from './sse-client.js';

/** The live layer's suites (test/http/live-redis*.test.ts): Redis is the local server unless PARLEY_TEST_REDIS_URL says otherwise. */
export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** How long a connection may take to come up on a loaded machine (what is awaited is an event). */
export const WAIT_MS = 20_000;

/** The whole live configuration of one app: Redis at `url`, this deployment's `keyPrefix`. */
export function liveConfig(url: string, keyPrefix: string): LiveConfig {
  return { ...loadConfig({}).live, redisUrl: url, keyPrefix, timeoutMs: 5000, degradedPollMs: 50, cancelWaitMs: 2000 };
}

/** Until its subscriber is connected a follower would start degraded: waits for it. */
export async function liveOn(parley: ParleyApp): Promise<void> {
  await pollUntil(() => (parley.bus.live ? true : undefined), { timeoutMs: WAIT_MS, what: 'the live layer' });
}

export const ids = (events: SseEvent[]) => events.map((event) => event.id);

/** Ids increase strictly (no duplicate) and durable sequence numbers have no gap. */
export function expectOrderedWithoutGaps(events: SseEvent[]): void {
  const parts = events.map((event) => idParts(event.id));
  for (let index = 1; index < parts.length; index++) {
    const [seq, delta] = parts[index]!;
    const [lastSeq, lastDelta] = parts[index - 1]!;
    expect(
      seq > lastSeq || (seq === lastSeq && delta > lastDelta),
      `${events[index]!.id} after ${events[index - 1]!.id}`,
    ).toBe(true);
    if (delta === 0) expect(seq, `durable ${events[index]!.id} after ${events[index - 1]!.id}`).toBe(lastSeq + 1);
  }
}

/** Two apps of one deployment (one database, one Redis at `redisUrl`, one key prefix), both listening with the live layer up. */
export interface LivePair {
  context: TestContext;
  peer: TestPeer;
  baseA: string;
  baseB: string;
}

export async function startLivePair(
  redisUrl: string,
  prefix: string,
  options: Omit<Parameters<typeof createTestContext>[0] & object, 'live'> = {},
): Promise<LivePair> {
  const context = await createTestContext({
    runtime: { sseKeepAliveMs: 200 },
    ...options,
    live: liveConfig(redisUrl, prefix),
  });
  const peer = await context.peer();
  const pair = { context, peer, baseA: await context.listen(), baseB: await peer.listen() };
  await liveOn(context.parley);
  await liveOn(peer.parley);
  return pair;
}
