import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { loadExample, type DocsExample } from '../helpers/examples.js';
import { httpJson, pollUntil, storedMessages, threadPath } from '../helpers/sse-client.js';

/**
 * docs/examples/event-source.mjs, run as a reader of docs/streaming.md would run it, against a
 * listening server: EventSource with a stream token follows a thread, and after the token has
 * expired the example fetches a new one and resumes from the last event id.
 */

describe('docs/examples/event-source.mjs', () => {
  let context: TestContext;
  let base: string;
  let example: DocsExample;
  let clockOffsetMs = 0;
  beforeAll(async () => {
    context = await createTestContext({ clock: { now: () => new Date(Date.now() + clockOffsetMs) } });
    base = await context.listen();
    example = await loadExample('event-source.mjs');
  });
  afterAll(async () => {
    await context?.close();
  });

  it('follows a thread with a stream token and sees the reply to a message as it is written', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const result = await example.main({
      baseUrl: base,
      apiKey: thread.key,
      agentId: thread.agentId,
      threadId: thread.threadId,
    });
    const [, reply] = await storedMessages(thread);
    expect(result.reply).toBe(reply.content);
    expect(result.stored).toBe(reply.content);
    expect(reply.content.length).toBeGreaterThan(0);
    const types: string[] = result.types;
    expect(types.filter((type) => type !== 'text-delta')).toEqual([
      'message-start',
      'message-end',
      'run-start',
      'message-start',
      'message-end',
      'run-end',
    ]);
    expect(types.slice(4, -2).every((type) => type === 'text-delta')).toBe(true);
    // The example closed its EventSource: the server sees the connection go.
    await pollUntil(() => (context.parley.sse.size === 0 ? true : undefined), { what: 'the stream closed' });
  });

  it('fetches a new token once the old one has expired, and resumes after the last event', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const issuedAt: number[] = [];
    const events: { type: string; id: string | undefined }[] = [];
    const errors: unknown[] = [];
    const follower = example.followThread({
      baseUrl: base,
      getStreamToken: () => {
        issuedAt.push(clockOffsetMs);
        return example.issueStreamToken({ baseUrl: base, apiKey: thread.key, ...thread });
      },
      onEvent: (event: any) => events.push({ type: event.type, id: event.message?.id ?? event.message_id }),
      onError: (error: unknown) => errors.push(error),
    });
    const post = (content: string) =>
      httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, { role: 'assistant', content });
    try {
      await follower.opened;
      const first = await post('Before the token expires.');
      await pollUntil(() => (events.length === 2 ? true : undefined), { what: 'the first message' });

      clockOffsetMs = 301_000;
      // The server ends every stream (as at shutdown); EventSource reconnects with the old token,
      // gets 401, and the example asks for a new token.
      context.parley.sse.closeAll();
      await pollUntil(() => (issuedAt.length === 2 && context.parley.sse.size === 1 ? true : undefined), {
        what: 'a new token and a new stream',
      });
      const second = await post('After it expired.');
      await pollUntil(() => (events.length === 5 ? true : undefined), { what: 'the second message' });

      expect(issuedAt).toEqual([0, 301_000]);
      expect(events).toEqual([
        { type: 'message-start', id: first.body.id },
        { type: 'message-end', id: first.body.id },
        { type: 'shutdown', id: undefined },
        { type: 'message-start', id: second.body.id },
        { type: 'message-end', id: second.body.id },
      ]);
      expect(errors).toEqual([]);
    } finally {
      clockOffsetMs = 0;
      follower.close();
    }
  });
});
