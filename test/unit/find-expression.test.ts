import { describe, expect, it } from 'vitest';
import { expressionIn, findArithmetic } from '../../src/models/providers/demo/find-expression.js';
import { random, randomText } from '../helpers/random.js';
import { growthRatio } from '../helpers/time-ratio.js';

/** The regexes the scanner replaced: the reference for what the demo model calculates. */
const CALCULATION_CUE = /\b(?:calculate|compute|evaluate|what is|what's|how much is)\b\s*:?\s*(.+)$/i;
const ARITHMETIC = /[-+(]*\s*[\d.]+(?:\s*(?:[-+*/%^×÷]|\*\*)\s*[-+(]*\s*[\d.]+\s*\)*)+/;

function referenceExpression(content: string): string | null {
  const cue = CALCULATION_CUE.exec(content);
  const candidate = cue ? (ARITHMETIC.exec(cue[1]!) ?? ARITHMETIC.exec(content)) : ARITHMETIC.exec(content);
  return candidate ? candidate[0].trim() : null;
}

const PIECES = [
  ...[' ', '  ', '\n', '\r', '\t', '\u00a0', '\u2028', ':', ' : '],
  ...['1', '23', '.', '4.5', '+', '-', '*', '**', '/', '%', '^', '×', '÷', '(', ')', '((', '))'],
  ...['calculate', 'What is', "what's", 'how much is', 'compute', 'EVALUATE', 'what', 'is', 'x', 'time', '_'],
];

describe('the expression the demo model calculates', () => {
  it.each([
    ['calculate 17*23', '17*23'],
    ['What time is it, and what is (2+3)*4?', '(2+3)*4'],
    ['what is 2 ** 10 please', '2 ** 10'],
    ['how much is: -3 + +5', '-3 + +5'],
    ['6 × 7 ÷ 2 is what I need', '6 × 7 ÷ 2'],
    ['1+1 then what is 2+2', '2+2'],
    ['what is\n2+2', '2+2'],
    ['no numbers here', null],
    ['just 42', null],
  ])('in %j is %j', (content, expected) => {
    expect(expressionIn(content)).toBe(expected);
    expect(referenceExpression(content)).toBe(expected);
  });

  it('is found exactly as the regexes found it, on 5,000 generated texts', () => {
    const next = random(7);
    for (let index = 0; index < 5000; index += 1) {
      const text = randomText(next, PIECES, 14);
      expect(expressionIn(text), JSON.stringify(text)).toBe(referenceExpression(text));
      expect(findArithmetic(text), JSON.stringify(text)).toBe(ARITHMETIC.exec(text)?.[0] ?? null);
    }
  });

  it.each([
    // 32 KiB of one digit blocked the loop for 1.3 s: `[\d.]+` was retried from every digit.
    ['digits', (bytes: number) => '1'.repeat(bytes)],
    ['spaces', (bytes: number) => ' '.repeat(bytes)],
    ['a cue and digits', (bytes: number) => `what is ${'1'.repeat(bytes - 8)}`],
    ['signs and parentheses', (bytes: number) => '(-+'.repeat(bytes / 3) + 'x'],
    // The cue's `\s*:?\s*(.+)$` split a run of spaces every way (cubic: 4 KiB took 8 s).
    ['a cue, spaces and a line break', (bytes: number) => `what is${' '.repeat(bytes - 10)}x\ny`],
    ['cues before a line break', (bytes: number) => 'what is '.repeat(bytes / 8) + '\n'],
  ])('takes time linear in the text: 64 KiB of %s costs about 64 times 1 KiB', async (_shape, make) => {
    const ratio = await growthRatio(expressionIn, { small: make(1024), large: make(64 * 1024) });
    // Linear gives a ratio near 1. The regexes gave about 60 on digits, spaces and a cue with
    // digits; the cubic shapes never finished (1 KiB took 146 ms, 4 KiB 8.4 s).
    expect(ratio).toBeLessThan(4);
  });
});
