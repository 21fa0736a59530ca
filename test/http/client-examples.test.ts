import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { storedMessages } from '../helpers/sse-client.js';

/** The docs' plain-fetch example (docs/examples/fetch-stream.mjs), run against a listening server. */

let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext();
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});

async function example(name: string): Promise<{ main: (input: Record<string, string>) => Promise<any> }> {
  const url = pathToFileURL(path.resolve(import.meta.dirname, '../../docs/examples', name)).href;
  return (await import(url)) as { main: (input: Record<string, string>) => Promise<any> };
}

describe('docs/examples/fetch-stream.mjs', () => {
  it('reads the streamed reply with fetch alone: its deltas add up to the stored reply', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { main } = await example('fetch-stream.mjs');
    const { text, reply } = await main({
      baseUrl: base,
      apiKey: thread.key,
      agentId: thread.agentId,
      threadId: thread.threadId,
    });
    const [user, assistant] = await storedMessages(thread);
    expect(user).toMatchObject({ role: 'user', content: 'Hello!' });
    expect(reply).toEqual(assistant);
    expect(text).toBe(assistant.content);
    expect(text.length).toBeGreaterThan(0);
  });
});
