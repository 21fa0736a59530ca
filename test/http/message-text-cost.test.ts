import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARACTERS } from '../../src/features/messages/messages.schemas.js';
import { createAgentThread, createTestContext, type TestContext } from '../helpers/harness.js';
import { fastestOf } from '../helpers/time-ratio.js';

/**
 * Issue 7, M1: a user message of 32 KiB of "1" to a demo-model agent blocked the server for
 * seconds. Over HTTP, the longest message of a worst-case shape must cost about as much as the
 * longest message of prose — a ratio of two requests of one run, never an absolute time. Before
 * the fix, digits took over 1 s where prose took a few milliseconds.
 */
let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context.close();
});

function fill(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

const LENGTH = MAX_MESSAGE_CHARACTERS;
const PROSE = fill('The quick brown fox jumps over the lazy dog. ', LENGTH);

describe('POST …/messages with the longest message to a demo agent with tools', () => {
  it.each([
    ['digits', fill('1', LENGTH)],
    ['a cue and digits', `what is ${fill('1', LENGTH - 8)}`],
    ['spaces', fill(' ', LENGTH)],
    ['signs and parentheses', `${fill('(-+', LENGTH - 1)}x`],
    ['a cue, spaces and a line break', `what is${fill(' ', LENGTH - 10)}x\ny`],
  ])('costs about as much with %s as with prose', async (_shape, content) => {
    const { api, agent } = await createAgentThread(context, { model: 'demo', tools: ['calculator', 'current_time'] });
    const send = async (text: string) => {
      const thread = await api.createThread(agent.id);
      const response = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
        role: 'user',
        content: text,
      });
      expect(response.status).toBe(200);
      expect(response.body.metadata.status).toBe('completed');
    };
    await send(PROSE);
    const prose = await fastestOf(() => send(PROSE), 3);
    const worst = await fastestOf(() => send(content), 3);
    expect(worst / prose).toBeLessThan(4);
  });
});
