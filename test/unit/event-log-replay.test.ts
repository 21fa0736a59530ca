import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { START, formatEventId } from '../../src/runtime/event-id.js';
import { MemoryDeltaBuffer } from '../../src/runtime/delta-buffer.js';
import { ThreadEventLog } from '../../src/runtime/event-log.js';
import { MemoryLiveBus, type LiveEvent } from '../../src/runtime/live-bus.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

/**
 * The race between a follower's replay and a run that goes on meanwhile, made deterministic: the
 * next durable event commits (and its first delta is recorded) after the follower's page was read
 * but before the follower looks at the delta buffer. The follower must still get the event, then
 * its delta — never the delta alone (seen on PostgreSQL, where the page arrives over a socket).
 */

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context?.close();
});

async function next(events: AsyncGenerator<LiveEvent>, count: number): Promise<string[]> {
  const ids: string[] = [];
  const deadline = AbortSignal.timeout(5000);
  while (ids.length < count && !deadline.aborted) {
    const result = await Promise.race([
      events.next(),
      new Promise<null>((resolve) => deadline.addEventListener('abort', () => resolve(null), { once: true })),
    ]);
    if (result === null || result.done) break;
    ids.push(`${formatEventId(result.value.id)} ${result.value.type}`);
  }
  return ids;
}

describe('thread event log replay', () => {
  it('does not skip a durable event that commits between the page read and the buffer read', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const log = new ThreadEventLog({ store: context.store, bus: new MemoryLiveBus(), deltas: new MemoryDeltaBuffer() });
    const key = { organizationId: organization.organizationId, threadId: thread.id };
    const run = { run_id: 'run', message_id: 'reply', step: 1 };
    const appendStart = (role: string) =>
      log.write(({ append }) =>
        append({ ...key, now: new Date().toISOString(), events: [{ type: 'message-start', data: { ...run, role } }] }),
      );
    await appendStart('user');

    const listAfter = context.store.events.listAfter.bind(context.store.events);
    const spy = vi.spyOn(context.store.events, 'listAfter').mockImplementationOnce(async (input) => {
      const page = await listAfter(input);
      await appendStart('assistant');
      log.delta(thread.id, { ...run, delta: 'Hello' });
      return page;
    });
    const controller = new AbortController();
    const events = log.follow({ ...key, after: { ...START, seq: 1 }, signal: controller.signal });
    try {
      expect(await next(events, 2)).toEqual(['2 message-start', '2.1 text-delta']);
    } finally {
      controller.abort();
      await events.return(undefined);
      spy.mockRestore();
    }
  });
});
