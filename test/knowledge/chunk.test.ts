import { describe, expect, it } from 'vitest';
import { chunkDocument, estimateTokens } from '../../src/knowledge/chunk.js';
import type { DocumentSection, ExtractedDocument } from '../../src/knowledge/document.js';

function documentOf(sections: DocumentSection[]): ExtractedDocument {
  return { title: null, sections, pageCount: null };
}

/** Text, heading path and page of each chunk, as one line each reads in a failure. */
function shape(document: ExtractedDocument, options: { targetTokens: number; overlapTokens: number }) {
  return chunkDocument(document, options).map((chunk) => [chunk.text, chunk.headingPath.join(' > '), chunk.page]);
}

describe('estimateTokens', () => {
  it('counts 1.3 tokens a word, rounded up, and a token a character for spaceless scripts', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('one')).toBe(2);
    expect(estimateTokens('one two three four five six seven eight nine ten')).toBe(13);
    expect(estimateTokens('  spaced\n\nout\twords  ')).toBe(4);
    expect(estimateTokens('日本語')).toBe(4);
    expect(estimateTokens('한국어 text')).toBe(6);
  });
});

describe('chunkDocument', () => {
  it('keeps small sections whole and packs those with one heading path and page together', () => {
    const document = documentOf([
      { headingPath: ['Guide'], page: null, text: 'Parley serves agents.' },
      { headingPath: ['Guide'], page: null, text: '  It stores threads.  ' },
      { headingPath: ['Guide', 'Install'], page: null, text: 'Run npm ci.' },
      { headingPath: ['Guide', 'Install'], page: null, text: '   ' },
      { headingPath: ['Guide'], page: null, text: 'Back under the guide.' },
    ]);
    expect(chunkDocument(document, { targetTokens: 100, overlapTokens: 10 })).toEqual([
      { text: 'Parley serves agents.\n\nIt stores threads.', headingPath: ['Guide'], page: null, tokenCount: 8 },
      { text: 'Run npm ci.', headingPath: ['Guide', 'Install'], page: null, tokenCount: 4 },
      // The same heading path again after another one: a new chunk, so chunks follow reading order.
      { text: 'Back under the guide.', headingPath: ['Guide'], page: null, tokenCount: 6 },
    ]);
  });

  it('never joins two pages, and carries each page', () => {
    const document = documentOf([
      { headingPath: [], page: 1, text: 'First page text.' },
      { headingPath: [], page: 1, text: 'More of page one.' },
      { headingPath: [], page: 2, text: 'Second page text.' },
    ]);
    expect(shape(document, { targetTokens: 100, overlapTokens: 10 })).toEqual([
      ['First page text.\n\nMore of page one.', '', 1],
      ['Second page text.', '', 2],
    ]);
  });

  it('starts a full chunk with the previous tail as overlap, within one heading path and page', () => {
    // 8 tokens: 6 words a chunk; 3 tokens of overlap: 2 words.
    const document = documentOf([
      { headingPath: ['Notes'], page: null, text: 'One two three four five.' },
      { headingPath: ['Notes'], page: null, text: 'Six seven eight nine.' },
      { headingPath: ['Other'], page: null, text: 'Ten eleven.' },
    ]);
    expect(shape(document, { targetTokens: 8, overlapTokens: 3 })).toEqual([
      ['One two three four five.', 'Notes', null],
      ['four five.\n\nSix seven eight nine.', 'Notes', null],
      // No overlap across heading paths.
      ['Ten eleven.', 'Other', null],
    ]);
  });

  it('splits a long section at sentence ends, overlapping, and a run-on sentence at words', () => {
    const document = documentOf([
      {
        headingPath: ['Install'],
        page: 3,
        text: 'Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu.\nNu xi omicron pi.',
      },
      { headingPath: ['Long'], page: 3, text: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11' },
    ]);
    expect(shape(document, { targetTokens: 8, overlapTokens: 3 })).toEqual([
      ['Alpha beta gamma delta.', 'Install', 3],
      ['gamma delta. Epsilon zeta eta theta.', 'Install', 3],
      ['eta theta. Iota kappa lambda mu.', 'Install', 3],
      ['lambda mu.\nNu xi omicron pi.', 'Install', 3],
      // Windows of 6 - 2 words, so the 2-word overlap fits each next chunk.
      ['w1 w2 w3 w4', 'Long', 3],
      ['w3 w4 w5 w6 w7 w8', 'Long', 3],
      ['w7 w8 w9 w10 w11', 'Long', 3],
    ]);
  });

  it('splits text without spaces at full-width sentence marks and characters', () => {
    const document = documentOf([{ headingPath: ['日本'], page: null, text: '日本語の文です。二つ目。' }]);
    expect(shape(document, { targetTokens: 8, overlapTokens: 0 })).toEqual([
      ['日本語の文で', '日本', null],
      // The rest of the cut sentence and the next one fit together.
      ['す。二つ目。', '日本', null],
    ]);
  });

  it('keeps every chunk within the target and loses no word (default sizes)', () => {
    const words = Array.from({ length: 2000 }, (_, index) => `word${index}${index % 17 === 16 ? '.' : ''}`);
    const document = documentOf([
      { headingPath: ['A'], page: null, text: words.slice(0, 1200).join(' ') },
      { headingPath: ['A'], page: null, text: words.slice(1200).join(' ') },
    ]);
    const chunks = chunkDocument(document, { targetTokens: 350, overlapTokens: 50 });
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(350);
      expect(chunk.tokenCount).toBe(estimateTokens(chunk.text));
    }
    const seen = new Set(chunks.flatMap((chunk) => chunk.text.split(/\s+/)));
    expect(words.filter((word) => !seen.has(word))).toEqual([]);
    // Each chunk after the first repeats the previous one's last words.
    for (let index = 1; index < chunks.length; index += 1) {
      const previousLast = chunks[index - 1]!.text.split(/\s+/).at(-1)!;
      expect(chunks[index]!.text.split(/\s+/).slice(0, 40)).toContain(previousLast);
    }
  });

  it('caps the overlap at half a chunk', () => {
    const document = documentOf([{ headingPath: [], page: null, text: 'a1 a2 a3 a4 a5 a6 a7 a8 a9 a10.' }]);
    // 4 words a chunk; an overlap of 100 tokens is cut to 2 words; windows of 2 new words each.
    expect(shape(document, { targetTokens: 6, overlapTokens: 100 }).map(([text]) => text)).toEqual([
      'a1 a2 a3 a4',
      'a3 a4 a5 a6',
      'a5 a6 a7 a8',
      'a7 a8 a9 a10.',
    ]);
  });
});
