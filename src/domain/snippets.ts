/**
 * Search snippets (docs/search.md, "Snippets"). The database says which words of a message
 * match, by the same stemming that matched it: SQLite's `highlight()` and PostgreSQL's
 * `ts_headline` return the whole stored text with every matching token between MARK_OPEN and
 * MARK_CLOSE. Everything else is done here, once for both dialects: the window, the escaping and
 * the `<mark>` tags. The markers are private-use characters; a text that already holds one
 * (or that the database gave back changed) is shown without highlights rather than trusted.
 */
export const MARK_OPEN = '\uE000';
export const MARK_CLOSE = '\uE001';

/** About this many characters of the text around its first match, cut at spaces. */
export const SNIPPET_CHARACTERS = 200;
/** How much of the window comes before the first match, when the text is longer than the window. */
const LEAD_CHARACTERS = 60;

interface Segment {
  text: string;
  marked: boolean;
}

/**
 * The snippet of `content`: HTML-escaped text (`&`, `<`, `>`, `"`, `'`) with each matched word in
 * `<mark>`…`</mark>`, the window around the first match, `…` where text was cut, runs of white
 * space shown as one space. `highlighted` is the database's marked copy of `content`.
 */
export function buildSnippet(content: string, highlighted: string | null): string {
  const segments = segmentsOf(content, highlighted);
  const { start, end } = windowOf(content, segments);
  let html = start > 0 ? '…' : '';
  let offset = 0;
  for (const segment of segments) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + segment.text.length);
    if (from < to) {
      const text = escapeHtml(segment.text.slice(from - offset, to - offset).replace(/\s+/g, ' '));
      html += segment.marked ? `<mark>${text}</mark>` : text;
    }
    offset += segment.text.length;
  }
  return end < content.length ? `${html}…` : html;
}

function segmentsOf(content: string, highlighted: string | null): Segment[] {
  const plain = [{ text: content, marked: false }];
  if (highlighted === null || content.includes(MARK_OPEN) || content.includes(MARK_CLOSE)) return plain;
  const segments: Segment[] = [];
  let marked = false;
  for (const [index, text] of highlighted.split(/[\uE000\uE001]/).entries()) {
    if (index > 0) marked = !marked;
    if (text !== '') segments.push({ text, marked });
  }
  const balanced = highlighted.split(MARK_OPEN).length === highlighted.split(MARK_CLOSE).length;
  return balanced && segments.map((segment) => segment.text).join('') === content ? segments : plain;
}

/** [start, end) of the shown text: from a little before the first match, cut at white space. */
function windowOf(content: string, segments: Segment[]): { start: number; end: number } {
  if (content.length <= SNIPPET_CHARACTERS) return { start: 0, end: content.length };
  let firstMatch = 0;
  for (const segment of segments) {
    if (segment.marked) break;
    firstMatch += segment.text.length;
  }
  if (firstMatch >= content.length) firstMatch = 0;
  let start = Math.max(0, Math.min(firstMatch - LEAD_CHARACTERS, content.length - SNIPPET_CHARACTERS));
  if (start > 0) {
    const space = content.slice(start, firstMatch).search(/\s/);
    start = space < 0 ? firstMatch : start + space + 1;
  }
  let end = Math.min(content.length, start + SNIPPET_CHARACTERS);
  if (end < content.length) {
    const space = content.slice(firstMatch, end).search(/\s\S*$/);
    if (space > 0) end = firstMatch + space;
  }
  return { start: codePointBoundary(content, start), end: codePointBoundary(content, end) };
}

/** Never splits a surrogate pair: an index inside one moves to the pair's start. */
function codePointBoundary(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return index > 0 && code >= 0xdc00 && code <= 0xdfff ? index - 1 : index;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]!);
}
