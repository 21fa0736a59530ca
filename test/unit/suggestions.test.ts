import { describe, expect, it } from 'vitest';
import { extractSuggestions, stripSuggestions } from '../../src/domain/suggestions.js';
import { random, randomText } from '../helpers/random.js';
import { growthRatio } from '../helpers/time-ratio.js';

/** The regex implementation the scanner replaced: the reference for what blocks are. */
function referenceStrip(text: string): string {
  return text.replace(/\s*<suggestions>[\s\S]*?<\/suggestions>\s*/g, (block, offset: number, whole: string) =>
    offset === 0 || offset + block.length === whole.length ? '' : '\n\n',
  );
}

function referenceSuggestions(text: string): string[] {
  return [...text.matchAll(/<suggestions>([\s\S]*?)<\/suggestions>/g)].flatMap((block) =>
    block[1]!
      .split('\n')
      .map((line) => line.replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '').trim())
      .filter((line) => line !== ''),
  );
}

const OPEN_TAG = '<suggestions>';
const PIECES = [' ', '\n', '\t', 'a', 'Answer.', '<suggestions>', '</suggestions>', '- x', '\n2) y', '\u00a0', '<sugg'];

function worstCase(bytes: number): string {
  // A long run of white space with no tag after it, then opening tags that never close: the
  // regexes retried `\s*` at every space and scanned to the end from every opening tag.
  return ' '.repeat(bytes / 2) + OPEN_TAG.repeat(Math.floor(bytes / 2 / OPEN_TAG.length));
}

describe('suggestion blocks', () => {
  it('are found exactly as the regex found them, on 2,000 generated texts', () => {
    const next = random(42);
    for (let index = 0; index < 2000; index += 1) {
      const text = randomText(next, PIECES, 12);
      expect(stripSuggestions(text), JSON.stringify(text)).toBe(referenceStrip(text));
      expect(extractSuggestions(text).suggestions, JSON.stringify(text)).toEqual(referenceSuggestions(text));
    }
  });

  it('take time linear in the text: 64 KiB of worst case costs about 64 times 1 KiB', async () => {
    // The ratio of one run, not an absolute time: 64 small inputs against one large one.
    const ratio = await growthRatio(extractSuggestions, { small: worstCase(1024), large: worstCase(64 * 1024) });
    // Linear gives a ratio near 1; the quadratic regex gave about 64.
    expect(ratio).toBeLessThan(8);
  });
});
