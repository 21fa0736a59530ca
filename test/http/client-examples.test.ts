import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { runExample } from '../helpers/examples.js';
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

describe('docs/examples/fetch-stream.mjs', () => {
  it('reads the streamed reply with fetch alone: its deltas add up to the stored reply', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { text, reply } = await runExample('fetch-stream.mjs', thread);
    const [user, assistant] = await storedMessages(thread);
    expect(user).toMatchObject({ role: 'user', content: 'Hello!' });
    expect(reply).toEqual(assistant);
    expect(text).toBe(assistant.content);
    expect(text.length).toBeGreaterThan(0);
  });
});
