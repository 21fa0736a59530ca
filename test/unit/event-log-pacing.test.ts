import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { START, formatEventId } from '../../src/runtime/event-id.js';
import { MemoryDeltaBuffer } from '../../src/runtime/delta-buffer.js';
import { ThreadEventLog } from '../../src/runtime/event-log.js';
import { MemoryLiveBus, type LiveEvent } from '../../src/runtime/live-bus.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { pollUntil } from '../helpers/sse-client.js';

/**
 * A follower's replay goes at its consumer's pace (`whenWritable`), and the live events that wait for it
 * meanwhile are bounded: past 10,000 the follow ends with `slow_consumer` and lets them go.
 */

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context?.close();
});

const run = { run_id: 'run', message_id: 'reply', step: 1 };

async function threadWithLog(stored: number) {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const thread = await api.createThread((await api.createAgent()).id);
  const bus = new MemoryLiveBus();
  const log = new ThreadEventLog({ store: context.store, bus, deltas: new MemoryDeltaBuffer() });
  const key = { organizationId: organization.organizationId, threadId: thread.id };
  const events = Array.from({ length: stored }, () => ({
    type: 'message-start' as const,
    data: { ...run, role: 'user' },
  }));
  await log.write(({ append }) => append({ ...key, now: new Date().toISOString(), events }));
  return { log, bus, key, threadId: thread.id };
}

/** A consumer that holds the replay until `release()`; counts how often it was asked. */
function gate() {
  let open = false;
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  const state = {
    asked: 0,
    whenWritable: (): Promise<void> | null => {
      state.asked += 1;
      return open ? null : opened;
    },
    release: () => {
      open = true;
      release();
    },
  };
  return state;
}

describe('ThreadEventLog.follow pacing', () => {
  it('takes the next stored event only when the consumer is ready', async () => {
    const { log, key } = await threadWithLog(3);
    const consumer = gate();
    const controller = new AbortController();
    const events = log.follow({ ...key, after: START, signal: controller.signal, consumer });
    try {
      const first = events.next();
      await pollUntil(() => (consumer.asked > 0 ? true : undefined), { what: 'the replay to reach the consumer' });
      // Held: nothing is yielded while the consumer is not ready.
      const raced = await Promise.race([first, new Promise((resolve) => setImmediate(() => resolve('held')))]);
      expect(raced).toBe('held');
      consumer.release();
      const ids: string[] = [];
      for (let result = await first; ; result = await events.next()) {
        ids.push(formatEventId((result.value as LiveEvent).id));
        if (ids.length === 3) break;
      }
      expect(ids).toEqual(['1', '2', '3']);
      expect(consumer.asked).toBe(4);
    } finally {
      controller.abort();
      await events.return(undefined);
    }
  });

  it('ends with slow_consumer when more than 10,000 live events wait for a held replay, and unsubscribes', async () => {
    const { log, bus, key, threadId } = await threadWithLog(1);
    const consumer = gate();
    const controller = new AbortController();
    const events = log.follow({ ...key, after: START, signal: controller.signal, consumer });
    const first = events.next();
    await pollUntil(() => (consumer.asked > 0 ? true : undefined), { what: 'the replay to reach the consumer' });
    expect(bus.subscriberCount).toBe(1);
    for (let index = 0; index < 10_000; index += 1) log.delta(threadId, { ...run, delta: 'x' });
    const stillHeld = await Promise.race([
      first.then(() => 'moved'),
      new Promise((resolve) => setImmediate(() => resolve('held'))),
    ]);
    expect(stillHeld).toBe('held');
    log.delta(threadId, { ...run, delta: 'x' });
    const failure = await first.then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe('slow_consumer');
    expect(bus.subscriberCount).toBe(0);
    controller.abort();
  });
});
