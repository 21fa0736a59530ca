import { describe, expect, it } from 'vitest';
import { MAX_RENDERED_MARKDOWN_LENGTH, renderMarkdown } from '../../src/runtime/markdown.js';
import { stripSuggestions } from '../../src/domain/suggestions.js';

describe('renderMarkdown', () => {
  it('renders Markdown', () => {
    expect(renderMarkdown('**bold** and `code`\n\n- one\n- two')).toBe(
      '<p><strong>bold</strong> and <code>code</code></p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n',
    );
    expect(renderMarkdown('[site](https://example.com)')).toBe(
      '<p><a href="https://example.com" rel="noopener noreferrer nofollow">site</a></p>\n',
    );
  });

  it.each([
    ['<script>alert(1)</script>', '<script'],
    ['<img src=x onerror=alert(1)>', '<img'],
    ['<a href="javascript:alert(1)">x</a>', '<a href="javascript'],
    ['[x](javascript:alert(1))', 'href="javascript'],
    ['[x](JaVaScRiPt:alert(1))', 'href="JaVaScRiPt'],
    ['[x](vbscript:msgbox(1))', 'href="vbscript'],
    ['![x](data:text/html;base64,PHNjcmlwdD4=)', 'src="data:text/html'],
    ['<iframe src="https://evil.test"></iframe>', '<iframe'],
    ['<div onclick="steal()">hi</div>', '<div'],
  ])('never lets %j through as markup', (markdown, forbidden) => {
    const html = renderMarkdown(markdown);
    expect(html).not.toContain(forbidden);
    expect(html).not.toMatch(/<[a-z]+[^>]*\son[a-z]+=/i);
  });
});

describe('renderMarkdown beyond MAX_RENDERED_MARKDOWN_LENGTH', () => {
  it('renders Markdown up to the limit', () => {
    const atLimit = `**bold**${' '.repeat(MAX_RENDERED_MARKDOWN_LENGTH - 8)}`;
    expect(renderMarkdown(atLimit)).toBe('<p><strong>bold</strong></p>\n');
  });

  it('shows a longer text as escaped plain text, a paragraph per block, <br> at other line breaks', () => {
    const filler = 'a'.repeat(MAX_RENDERED_MARKDOWN_LENGTH);
    const text = `**not bold** <script>alert(1)</script> & [x](javascript:alert(1))\r\nline two\n \n\n${filler}\n`;
    expect(renderMarkdown(text)).toBe(
      '<p>**not bold** &lt;script&gt;alert(1)&lt;/script&gt; &amp; [x](javascript:alert(1))<br>\nline two</p>\n' +
        `<p>${filler}</p>\n`,
    );
  });
});

describe('stripSuggestions', () => {
  it('removes suggestion blocks wherever they are', () => {
    expect(stripSuggestions('Answer.\n\n<suggestions>\n- a?\n- b?\n</suggestions>')).toBe('Answer.');
    expect(stripSuggestions('<suggestions>- a</suggestions>\nAnswer.')).toBe('Answer.');
    expect(stripSuggestions('One.\n<suggestions>- a</suggestions>\nTwo.')).toBe('One.\n\nTwo.');
    expect(stripSuggestions('No suggestions here.')).toBe('No suggestions here.');
  });
});

describe('extractSuggestions', () => {
  it('lists the suggestions and returns the text without the block', async () => {
    const { extractSuggestions } = await import('../../src/domain/suggestions.js');
    expect(
      extractSuggestions('It is done.\n\n<suggestions>\n- What next?\n* And then?\n1. Why?\n</suggestions>'),
    ).toEqual({
      text: 'It is done.',
      suggestions: ['What next?', 'And then?', 'Why?'],
    });
    expect(extractSuggestions('Plain.')).toEqual({ text: 'Plain.', suggestions: [] });
  });
});
