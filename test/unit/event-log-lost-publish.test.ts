import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { START, formatEventId } from '../../src/runtime/event-id.js';
import { MemoryDeltaBuffer } from '../../src/runtime/delta-buffer.js';
import { ThreadEventLog } from '../../src/runtime/event-log.js';
import { MemoryLiveBus, type LiveEvent } from '../../src/runtime/live-bus.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

/**
 * Between processes a publish can be lost (a Redis command that timed out under load is not
 * retried). A live follower of an open run must still get the run's stored end: with no event
 * for a while during a run it reads the store again. Here the bus drops the end's publish.
 */
class DroppingBus extends MemoryLiveBus {
  override publish(threadId: string, event: LiveEvent): void {
    if (event.type !== 'message-end') super.publish(threadId, event);
  }
}

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context?.close();
});

describe('a live follower and a lost publish', () => {
  it('gets a stored event whose publish was lost while a run is open', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const thread = await api.createThread((await api.createAgent()).id);
    const log = new ThreadEventLog({ store: context.store, bus: new DroppingBus(), deltas: new MemoryDeltaBuffer() });
    const key = { organizationId: organization.organizationId, threadId: thread.id };
    const run = { run_id: 'run', message_id: 'reply', step: 1 };
    const append = (type: string, data: Record<string, unknown>) =>
      log.write(({ append: add }) => add({ ...key, now: new Date().toISOString(), events: [{ type, data } as never] }));
    const controller = new AbortController();
    const events = log.follow({ ...key, after: START, signal: controller.signal });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of events) {
        seen.push(`${formatEventId(event.id)} ${event.type}`);
        if (event.type === 'message-end') return;
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await append('message-start', { ...run, role: 'assistant' });
      log.delta(thread.id, { ...run, delta: 'Hello' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await append('message-end', { ...run, message: { id: 'reply' } });
      const outcome = await Promise.race([
        reading.then(() => 'ended'),
        new Promise((resolve) => setTimeout(() => resolve('waiting'), 6000)),
      ]);
      expect(outcome).toBe('ended');
      expect(seen).toEqual(['1 message-start', '1.1 text-delta', '2 message-end']);
    } finally {
      controller.abort();
      await events.return(undefined);
    }
  });
});
