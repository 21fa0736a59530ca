import { describe, expect, it } from 'vitest';
import type { ModelMessage, ModelRequest, ModelStreamPart } from '../../src/models/model-port.js';
import { createDemoModel } from '../../src/models/providers/demo/demo-model.js';

const TOOLS = [
  { name: 'current_time', description: '', inputSchema: {} },
  { name: 'calculator', description: '', inputSchema: {} },
];

async function collect(messages: ModelMessage[], tools = TOOLS, wordsPerSecond = 0): Promise<ModelStreamPart[]> {
  const request: ModelRequest = { system: '', messages, tools, signal: new AbortController().signal };
  const parts: ModelStreamPart[] = [];
  for await (const part of createDemoModel({ wordsPerSecond }).stream(request)) parts.push(part);
  return parts;
}

describe('demo model', () => {
  it('calls the calculator and the clock when the words name them', async () => {
    expect(await collect([{ role: 'user', content: 'calculate 17*23' }])).toEqual([
      { type: 'tool-call', toolCallId: 'call_demo_1', toolName: 'calculator', input: { expression: '17*23' } },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 2, outputTokens: 0 } },
    ]);
    const both = await collect([{ role: 'user', content: 'What time is it, and what is (2+3)*4?' }]);
    expect(
      both.filter((part) => part.type === 'tool-call').map((part) => (part as { toolName: string }).toolName),
    ).toEqual(['calculator', 'current_time']);
  });

  it('does not call tools the agent lacks, and says it is a demo', async () => {
    const parts = await collect([{ role: 'user', content: 'what time is it' }], []);
    const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
    expect(text).toContain("Parley's offline demo model");
    expect(text).toContain('You said: "what time is it".');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    // Word by word: every delta is one word with its trailing space.
    expect(
      parts
        .filter((part) => part.type === 'text-delta')
        .every((part) => /^\S+\s*$/.test((part as { text: string }).text)),
    ).toBe(true);
  });

  it('answers from tool results, including failures', async () => {
    const parts = await collect([
      { role: 'user', content: 'calculate 17*23 and the time' },
      { role: 'assistant', content: '', toolCalls: [] },
      {
        role: 'tool',
        toolCallId: 'a',
        toolName: 'calculator',
        result: { expression: '17*23', result: 391 },
        isError: false,
      },
      { role: 'tool', toolCallId: 'b', toolName: 'current_time', result: 'clock broke', isError: true },
    ]);
    const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
    expect(text).toBe(
      "17*23 = 391. The current_time tool failed: clock broke. (Answered by Parley's offline demo model.)",
    );
  });

  it('streams at the configured pace and stops when aborted', async () => {
    const started = Date.now();
    await collect([{ role: 'user', content: 'hello' }], [], 200);
    // About 25 words at 200 words/s: at least 100 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);

    const controller = new AbortController();
    const stream = createDemoModel({ wordsPerSecond: 50 }).stream({
      system: '',
      messages: [{ role: 'user', content: 'hello' }],
      tools: [],
      signal: controller.signal,
    });
    const seen: ModelStreamPart[] = [];
    await expect(
      (async () => {
        for await (const part of stream) {
          seen.push(part);
          if (seen.length === 2) controller.abort(new Error('cancelled'));
        }
      })(),
    ).rejects.toThrow('cancelled');
    expect(seen).toHaveLength(2);
  });
});
