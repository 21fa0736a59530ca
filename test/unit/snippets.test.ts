import { describe, expect, it } from 'vitest';
import { buildSnippet, MARK_CLOSE, MARK_OPEN, SNIPPET_CHARACTERS } from '../../src/domain/snippets.js';

/** The database's marked copy of `text`: each listed word wrapped in the markers. */
function marked(text: string, words: string[]): string {
  return text.replace(new RegExp(`\\b(${words.join('|')})\\b`, 'g'), `${MARK_OPEN}$1${MARK_CLOSE}`);
}

describe('buildSnippet', () => {
  it('shows a short text whole, escaped, with its matches marked', () => {
    const text = 'Tom & Jerry <b>chase</b> "cheese"';
    expect(buildSnippet(text, marked(text, ['chase', 'cheese']))).toBe(
      'Tom &amp; Jerry &lt;b&gt;<mark>chase</mark>&lt;/b&gt; &quot;<mark>cheese</mark>&quot;',
    );
  });

  it('cuts a long text at spaces around its first match, with an ellipsis where it cut', () => {
    const words = Array.from({ length: 100 }, (_, index) => `w${index}`);
    const text = words.join(' ');
    const snippet = buildSnippet(text, marked(text, ['w50']));
    expect(snippet).toMatch(/^…w\d+ /);
    expect(snippet).toMatch(/ w\d+…$/);
    expect(snippet).toContain('<mark>w50</mark>');
    const shown = snippet.replace(/<\/?mark>|…/g, '');
    expect(text).toContain(shown);
    expect(shown.length).toBeLessThanOrEqual(SNIPPET_CHARACTERS);
  });

  it('starts at the beginning when the match is near it, and ends at the end when it is near that', () => {
    const text = `start ${'filler '.repeat(60)}finish`;
    expect(buildSnippet(text, marked(text, ['start']))).toMatch(/^<mark>start<\/mark> filler .*…$/);
    expect(buildSnippet(text, marked(text, ['finish']))).toMatch(/^…filler .* <mark>finish<\/mark>$/);
  });

  it('shows runs of white space as one space', () => {
    const text = 'first line\n\n\tsecond   line';
    expect(buildSnippet(text, marked(text, ['second']))).toBe('first line <mark>second</mark> line');
  });

  it('never splits a surrogate pair when cutting text without spaces', () => {
    const text = `${'😀'.repeat(150)}目標${'😀'.repeat(150)}`;
    const snippet = buildSnippet(text, text.replace('目標', `${MARK_OPEN}目標${MARK_CLOSE}`));
    expect(snippet).toContain('<mark>目標</mark>');
    expect(snippet.replace(/<\/?mark>|…/g, '')).toMatch(/^(😀)*目標(😀)*$/u);
  });

  it('trusts no marked copy that is not the text: no highlights, still escaped', () => {
    const text = 'a <i>safe</i> text';
    expect(buildSnippet(text, `a <i>${MARK_OPEN}unsafe${MARK_CLOSE}</i> text`)).toBe('a &lt;i&gt;safe&lt;/i&gt; text');
    expect(buildSnippet(text, `a <i>${MARK_OPEN}safe</i> text`)).toBe('a &lt;i&gt;safe&lt;/i&gt; text');
    expect(buildSnippet(text, null)).toBe('a &lt;i&gt;safe&lt;/i&gt; text');
    const withMarker = `x ${MARK_OPEN}y${MARK_CLOSE} z`;
    expect(buildSnippet(withMarker, `${MARK_OPEN}x${MARK_CLOSE} ${MARK_OPEN}y${MARK_CLOSE} z`)).toBe(withMarker);
  });
});
