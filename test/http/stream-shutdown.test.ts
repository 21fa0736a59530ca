import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { SseConnection, pollUntil, threadPath } from '../helpers/sse-client.js';

/**
 * At shutdown every open stream gets `shutdown` (a reconnect hint) and ends. A stream whose
 * request was already past the 503 check when shutdown began opens after that: it must get the
 * notice too, as it opens, not be cut later without one when the listener closes.
 */
let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext();
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});

describe('streams and shutdown', () => {
  it('a stream open when shutdown begins, and one opened after it, both end with the shutdown notice', async () => {
    const thread = await createThreadRef(context, { base, configuration: {} });
    const url = `${base}${threadPath(thread)}/stream`;
    const before = await SseConnection.open(url, { key: thread.key });
    expect(before.status).toBe(200);
    await pollUntil(() => (context.parley.sse.size === 1 ? true : undefined), { what: 'the stream to open' });

    context.parley.sse.shutdown();
    expect(await before.readToEnd()).toMatchObject([{ event: 'shutdown', data: { type: 'shutdown' } }]);

    // The app still accepts the request (its 503 flag is not set here): the stream opens after shutdown began.
    const after = await SseConnection.open(url, { key: thread.key });
    expect(after.status).toBe(200);
    expect(await after.readToEnd()).toMatchObject([{ event: 'shutdown', data: { type: 'shutdown' } }]);
    expect(context.parley.sse.size).toBe(0);
  });

  it('closeAll alone (a key revoked, a test) ends open streams but lets new ones open', async () => {
    const fresh = await createTestContext();
    try {
      const freshBase = await fresh.listen();
      const thread = await createThreadRef(fresh, { base: freshBase, configuration: {} });
      const url = `${freshBase}${threadPath(thread)}/stream`;
      const first = await SseConnection.open(url, { key: thread.key });
      await pollUntil(() => (fresh.parley.sse.size === 1 ? true : undefined), { what: 'the stream to open' });
      fresh.parley.sse.closeAll();
      expect(await first.readToEnd()).toMatchObject([{ event: 'shutdown' }]);
      const second = await SseConnection.open(url, { key: thread.key });
      await pollUntil(() => (fresh.parley.sse.size === 1 ? true : undefined), { what: 'a new stream to stay open' });
      second.abort();
    } finally {
      await fresh.close();
    }
  });
});
