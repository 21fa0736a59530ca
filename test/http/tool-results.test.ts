import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '../../src/tools/tool.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { createAgentThread, createTestContext, type TestContext } from '../helpers/harness.js';

/**
 * Tool results are bounded twice (docs/adr/0015-tool-approval.md): stored up to
 * TOOL_RESULT_MAX_BYTES of JSON (a larger one as a `truncated` marker with its head and tail), and
 * sent to the model up to TOOL_RESULT_MODEL_BYTES (a larger one as head and tail text with a
 * marker). A failing tool is an error result, never a failed run.
 */

const STORED_BYTES = 4096;
const MODEL_BYTES = 1024;

const echo: Tool = {
  name: 'echo',
  description: 'Returns `size` characters of `character`.',
  inputSchema: {
    type: 'object',
    properties: { size: { type: 'integer' }, character: { type: 'string' } },
    required: ['size', 'character'],
  },
  async execute(input) {
    return { text: String(input.character).repeat(input.size as number) };
  },
};
const explode: Tool = {
  name: 'explode',
  description: 'Fails with a long message.',
  inputSchema: { type: 'object', properties: {} },
  async execute() {
    throw new Error(`broken: ${'x'.repeat(5000)}`);
  },
};

const models = growingRegistry('tool-results');
let context: TestContext;
beforeAll(async () => {
  context = await createTestContext({
    models: models.registry,
    tools: new Map([echo, explode].map((tool) => [tool.name, tool])),
    runtime: { toolResultMaxBytes: STORED_BYTES, toolResultModelBytes: MODEL_BYTES },
  });
});
afterAll(async () => {
  await context?.close();
});

const bytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');

/** Runs one tool call and an answer; the stored reply and what the model's second request got. */
async function runOneCall(tool: string, input: Record<string, unknown>) {
  const model = models.script([callTools({ name: tool, input, id: 'call_1' }), say('Done.')]);
  const { api, agent, thread } = await createAgentThread(context, { model: model.id, tools: ['echo', 'explode'] });
  const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
    role: 'user',
    content: 'Go',
  });
  expect(reply.status).toBe(200);
  const sent = model.requests[1]!.messages.at(-1) as { role: string; result: unknown; isError: boolean };
  return { reply: reply.body, sent };
}

describe('bounded tool results', () => {
  it('a result within both caps is stored and sent as it is', async () => {
    const { reply, sent } = await runOneCall('echo', { size: 10, character: 'a' });
    expect(reply.tool_calls[0].result).toEqual({ text: 'aaaaaaaaaa' });
    expect(sent).toMatchObject({ role: 'tool', result: { text: 'aaaaaaaaaa' }, isError: false });
  });

  it('a result over the model cap is stored whole; the model gets its head and tail with a marker', async () => {
    const { reply, sent } = await runOneCall('echo', { size: 3000, character: 'b' });
    expect(reply.tool_calls[0].result).toEqual({ text: 'b'.repeat(3000) });
    expect(typeof sent.result).toBe('string');
    const text = sent.result as string;
    expect(bytes(text)).toBeLessThanOrEqual(MODEL_BYTES);
    expect(text.startsWith('{"text":"bbbb')).toBe(true);
    expect(text.endsWith('bbbb"}')).toBe(true);
    expect(text).toContain(`bytes of this tool result cut here; it is longer than the ${MODEL_BYTES} bytes sent]`);
    expect(text).toMatch(/…\[\d+ of 3011 bytes/);
  });

  it('a result over the stored cap is stored as a truncated marker within the cap', async () => {
    const { reply, sent } = await runOneCall('echo', { size: 10_000, character: 'é' });
    const stored = reply.tool_calls[0].result;
    expect(stored).toMatchObject({ truncated: true, original_bytes: 20_011, max_bytes: STORED_BYTES });
    expect(bytes(stored)).toBeLessThanOrEqual(STORED_BYTES);
    expect(stored.head.startsWith('{"text":"éé')).toBe(true);
    expect(stored.tail.endsWith('éé"}')).toBe(true);
    // Cut at character boundaries: no replacement characters.
    expect(`${stored.head}${stored.tail}`).not.toContain('\uFFFD');
    expect(bytes(sent.result)).toBeLessThanOrEqual(MODEL_BYTES);
    expect(sent.result as string).not.toContain('\uFFFD');
  });

  it('a failing tool is an error result, bounded, and the run completes', async () => {
    const { reply, sent } = await runOneCall('explode', {});
    expect(reply.metadata.status).toBe('completed');
    expect(reply.content).toBe('Done.');
    const error = reply.tool_calls[0].error as string;
    expect(reply.tool_calls[0].result).toBeNull();
    expect(error.startsWith('broken: xxx')).toBe(true);
    expect(bytes(error)).toBeLessThanOrEqual(MODEL_BYTES);
    expect(sent).toEqual({ role: 'tool', toolCallId: 'call_1', toolName: 'explode', result: error, isError: true });
  });
});
