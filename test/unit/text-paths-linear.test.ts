import { afterAll, describe, expect, it } from 'vitest';
import { extractSuggestions, stripSuggestions } from '../../src/domain/suggestions.js';
import { toParleyMessage } from '../../src/features/messages/stream-formats.js';
import { UiMessageStreamTranslator } from '../../src/features/messages/ui-message-stream.js';
import { parseApiKeyId } from '../../src/features/keys/api-key-secret.js';
import { findJsonProblem, textProblem } from '../../src/http/json-body.js';
import { frame } from '../../src/http/sse.js';
import { StorableTextStream, storableJson } from '../../src/domain/storable-text.js';
import { createDemoModel } from '../../src/models/providers/demo/demo-model.js';
import { MemoryDeltaBuffer } from '../../src/runtime/delta-buffer.js';
import { parseEventId } from '../../src/runtime/event-id.js';
import type { LiveEvent } from '../../src/runtime/live-bus.js';
import { MAX_RENDERED_MARKDOWN_LENGTH, renderMarkdown } from '../../src/runtime/markdown.js';
import { buildSystemPrompt } from '../../src/runtime/system-prompt.js';
import { runTool } from '../../src/runtime/tool-runner.js';
import { calculatorTool } from '../../src/tools/builtin/calculator.js';
import { evaluateExpression } from '../../src/tools/builtin/expression.js';
import { growthRatio } from '../helpers/time-ratio.js';

/**
 * Issue 7, class 1: no input makes the work on user or model text superlinear. Every path the
 * server runs such text through is fed worst-case shapes at two sizes, 64 times apart (1 KiB and
 * 64 KiB unless a path says otherwise), and one large input may cost at most 4 times as much as
 * 64 small ones — a ratio measured in one run, never an absolute time. Linear work gives about 1;
 * quadratic work about 64. Before issue 7 the demo model gave about 60 on digits and spaces.
 */
interface TextPath {
  name: string;
  run: (text: string) => unknown;
  shapes: Record<string, (length: number) => string>;
  sizes?: { small: number; large: number };
  /** The ratio under which the path passes (default MAX_GROWTH). */
  maxGrowth?: number;
}

const KIB = 1024;
const NEVER = new AbortController().signal;
const MAX_GROWTH = 4;

/** `unit` repeated to exactly `length` characters. */
function fill(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** `head`, then `unit` repeated, then `tail`: exactly `length` characters. */
function around(head: string, unit: string, tail: string, length: number): string {
  return head + fill(unit, length - head.length - tail.length) + tail;
}

const demoModel = createDemoModel({ wordsPerSecond: 0 });
const DEMO_TOOLS = ['calculator', 'current_time'].map((name) => ({ name, description: '', inputSchema: {} }));

/** The demo model's whole answer to one user message, with the calculator and the clock at hand. */
async function demoReply(content: string): Promise<string[]> {
  const messages = [{ role: 'user' as const, content }];
  const kinds: string[] = [];
  for await (const part of demoModel.stream({ system: '', messages, tools: DEMO_TOOLS, signal: NEVER })) {
    kinds.push(part.type);
  }
  return kinds;
}

function delta(text: string): LiveEvent {
  return { id: { seq: 7, delta: 3 }, type: 'text-delta', data: { message_id: 'm', run_id: 'r', step: 1, delta: text } };
}

const PATHS: TextPath[] = [
  {
    name: 'demo model reply',
    run: demoReply,
    shapes: {
      digits: (length) => fill('1', length),
      spaces: (length) => fill(' ', length),
      'signs and parentheses': (length) => fill('(-+', length - 1) + 'x',
      'a cue and digits': (length) => around('what is ', '1', '', length),
      'a cue, spaces and a line break': (length) => around('what is', ' ', 'x\ny', length),
      'cues before a line break': (length) => around('', 'what is ', '\n', length),
      'operators with no number after the last': (length) => fill('1+', length),
      'numbers and spaces': (length) => fill('1 ', length),
      'a long expression': (length) => around('calculate ', '(1+2)*3-', '4', length),
      'no-break spaces and line breaks': (length) => fill('\u00a0\n\u2028', length),
      'time words': (length) => fill('time ', length),
    },
  },
  {
    name: 'markdown to content_html',
    run: renderMarkdown,
    shapes: {
      'emphasis openers': (length) => fill('a*', length),
      'strong and emphasis mixed': (length) => fill('**a* ', length),
      underscores: (length) => fill('_a', length),
      'image openers': (length) => fill('![', length),
      'nested brackets': (length) => fill('[', length / 2) + fill(']', length / 2),
      'unclosed links': (length) => fill('[a](<', length),
      'backtick runs': (length) => fill('a`', length),
      'unclosed html': (length) => fill('<a href="', length),
      'line breaks': (length) => fill('\n', length),
      'short lines': (length) => fill('a\n', length),
      'nested lists': (length) => fill('- a\n  ', length),
      'deep blockquotes': (length) => fill(`${'> '.repeat(120)}a\n`, length),
      'a wide table': (length) => `${fill('|a', length / 2 - 1)}\n${fill('|-', length / 2)}`,
      'entities and escapes': (length) => fill('&#\\*', length),
      'link-like text': (length) => fill('a@b.c http://x.y/ www.', length),
      'suggestion tags': (length) => fill('<suggestions>', length),
    },
  },
  {
    // Past MAX_RENDERED_MARKDOWN_LENGTH the text is escaped instead: 64 KiB + 1 against 1 MiB + 16.
    name: 'plain text beyond the markdown limit',
    run: renderMarkdown,
    sizes: { small: MAX_RENDERED_MARKDOWN_LENGTH + 1, large: 16 * (MAX_RENDERED_MARKDOWN_LENGTH + 1) },
    shapes: {
      'short lines': (length) => fill('a\n', length),
      'blank lines': (length) => fill('a\n \n', length),
      'markup to escape': (length) => fill('<&">', length),
    },
  },
  {
    name: 'suggestions (a reply, and its content_html when filtered)',
    run: (text) => [extractSuggestions(text), stripSuggestions(text)],
    shapes: {
      'spaces then unclosed tags': (length) => fill(' ', length / 2) + fill('<suggestions>', length / 2),
      'many blocks': (length) => fill(' <suggestions>- a\n2) b</suggestions> ', length),
      'one block of many lines': (length) => around('<suggestions>', '- a\n', '</suggestions>', length),
      'closing tags only': (length) => fill('</suggestions>', length),
      'no-break spaces': (length) => fill('\u00a0', length),
    },
  },
  {
    // The tool's input schema refuses more than MAX_EXPRESSION_LENGTH characters before parsing.
    name: 'calculator tool call',
    run: (expression) =>
      runTool({
        tool: calculatorTool,
        toolName: 'calculator',
        arguments: { expression },
        timeoutMs: 10_000,
        signal: NEVER,
        now: () => new Date(0),
      }),
    shapes: {
      sums: (length) => fill('1+', length - 1) + '1',
      parentheses: (length) => fill('(', length),
    },
  },
  {
    // Within its limit, the evaluator itself: 7 characters against 448 (64 × 7).
    name: 'calculator expression within its limit',
    run: (expression) => {
      try {
        return evaluateExpression(expression);
      } catch (error) {
        return error;
      }
    },
    sizes: { small: 7, large: 448 },
    shapes: {
      sums: (length) => fill('1+', length - 1) + '1',
      'nested parentheses': (length) => around('', '(', '1', length),
      signs: (length) => around('', '-', '1', length),
      powers: (length) => fill('2^', length - 1) + '1',
      'function arguments': (length) => around('max(', '1,', '1)', length),
      spaces: (length) => around('1', ' ', '1', length),
      'long numbers': (length) => around('', '9', '.5e3', length),
    },
  },
  {
    name: 'SSE framing',
    run: (data) => frame({ id: '7.3', event: 'text-delta', data }),
    // 64 Ki line feeds make 64 Ki `data:` lines (allocation and collection): measured 5.3 under load
    // 11 on a slower host, where quadratic work gives 64. 8 keeps that margin.
    maxGrowth: 8,
    shapes: {
      'line feeds': (length) => fill('\n', length),
      'carriage returns': (length) => fill('\r', length),
      'CR LF pairs': (length) => fill('\r\n', length),
      'mixed breaks': (length) => fill('a\r\r\n\n', length),
      'one long line': (length) => fill('a', length),
    },
  },
  {
    name: 'stream views of a text delta (parley and ai-sdk)',
    run: (text) => [toParleyMessage(delta(text)), new UiMessageStreamTranslator().toMessages(delta(text))],
    shapes: {
      'quotes and backslashes': (length) => fill('"\\', length),
      'control characters': (length) => fill('\u0001\n\t', length),
      'lone surrogates': (length) => fill('\ud800', length),
    },
  },
  {
    // A reply streamed one character per delta: every delta is kept for followers that reconnect.
    name: 'replay buffer of a reply, one delta per character',
    run: (text) => {
      const buffer = new MemoryDeltaBuffer();
      buffer.advance('thread', 1);
      for (const character of text) buffer.record('thread', delta(character));
      return buffer;
    },
    shapes: { letters: (length) => fill('a', length) },
  },
  {
    name: 'system prompt from the configuration',
    run: (text) =>
      buildSystemPrompt({ name: 'Agent', configuration: { instructions: text, tone: text, [text]: text } }),
    shapes: {
      'underscores and dashes': (length) => fill('_-', length),
      'words and underscores': (length) => fill('a_', length),
      spaces: (length) => fill(' ', length),
    },
  },
  {
    name: 'Last-Event-ID and API key parsing',
    run: (text) => [parseEventId(text), parseApiKeyId(text)],
    shapes: {
      digits: (length) => fill('1', length),
      'spaces around an id': (length) => around('', ' ', '12.3', length),
      'key-like text': (length) => around('pk_', '0', '', length),
    },
  },
  {
    name: 'refusing client text that cannot be stored exactly',
    run: (text) => [textProblem(text), findJsonProblem({ a: text, b: [text, { c: text }] })],
    shapes: {
      'surrogate pairs, then a lone one': (length) => around('', '\ud83d\ude00', '\ud800', length),
      'text, then U+0000': (length) => around('', 'ab', '\u0000', length),
      'well-formed text': (length) => fill('é ', length),
    },
  },
  {
    // Parsed and walked, at 16 KiB and 1 MiB (the body limit): below some thousands of keys V8's
    // JSON.parse builds objects faster per key than above, which alone gives 1 KiB → 64 KiB ~5.
    name: 'JSON body parse and walk',
    run: (text) => findJsonProblem(JSON.parse(text)),
    sizes: { small: 16 * KIB, large: 1024 * KIB },
    // 65,000 keys in one object put V8 in dictionary mode and the collector to work: measured
    // 2.5 to 4.3 on a loaded 2-CPU machine, where quadratic work gives 64. 8 keeps that margin.
    maxGrowth: 8,
    shapes: {
      'a wide array': (length) => around('[', '1,', '1]', length),
      'many keys': (length) => {
        const count = Math.floor((length - 2) / 16);
        const keys = Array.from({ length: count }, (_, index) => `"k${String(index).padStart(10, '0')}":1`);
        return `{${keys.join(',')}}`.padEnd(length, ' ');
      },
      'deep, then wide': (length) => around('['.repeat(150), '1,', `1${']'.repeat(150)}`, length),
    },
  },
  {
    name: 'storable model text, in 16-character deltas',
    run: (text) => {
      const stream = new StorableTextStream();
      const out: string[] = [];
      for (let at = 0; at < text.length; at += 16) out.push(stream.push(text.slice(at, at + 16)));
      out.push(stream.end());
      return [out, storableJson({ text, list: [text] })];
    },
    shapes: {
      'U+0000 throughout': (length) => fill('a\u0000', length),
      'lone surrogates throughout': (length) => fill('\udc00\ud800x', length),
      'pairs split across deltas': (length) => around('x', '\ud83d\ude00', '', length),
    },
  },
];

const measured: string[] = [];

afterAll(() => {
  // `TEXT_PATHS_REPORT=1 npx vitest run test/unit/text-paths-linear.test.ts` prints the ratios.
  if (process.env.TEXT_PATHS_REPORT) console.info(measured.join('\n'));
});

for (const { name, run, shapes, sizes = { small: KIB, large: 64 * KIB }, maxGrowth = MAX_GROWTH } of PATHS) {
  describe(name, () => {
    it.each(Object.entries(shapes))('grows linearly with the text: %s', async (shape, make) => {
      const small = make(sizes.small);
      const large = make(sizes.large);
      expect([small.length, large.length]).toEqual([sizes.small, sizes.large]);
      const ratio = await growthRatio(run, { small, large });
      measured.push(`${name} | ${shape} | ${ratio.toFixed(2)}`);
      expect(ratio).toBeLessThan(maxGrowth);
    });
  });
}
