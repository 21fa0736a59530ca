import type { ChatMessage } from './models.js';

/**
 * Agents may end a reply with follow-up suggestions in this markup (documented in docs/api.md):
 *
 *     <suggestions>
 *     - How do I reset my password?
 *     - Can I change my plan?
 *     </suggestions>
 *
 * `filter_suggestions=true` removes every such block from `content` and `content_html`. The
 * runtime renders a reply's `content_html` without the block and lists the suggestions in
 * `metadata.suggestions`, so clients can show them as buttons.
 */
const OPEN = '<suggestions>';
const CLOSE = '</suggestions>';
const SPACE = /\s/;

interface Block {
  /** The block with the white space around it. */
  start: number;
  end: number;
  /** What stands between the tags. */
  inner: string;
}

/**
 * Each block from an opening tag to the next closing tag, widened over the white space around it.
 * Found by scanning, not by a regex: a leading `\s*` in a global regex is retried at every
 * position of a long run of spaces, which made 64 KiB of them take seconds (quadratic). Here every
 * character is looked at a bounded number of times.
 */
function findBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let from = 0;
  for (;;) {
    const open = text.indexOf(OPEN, from);
    if (open < 0) break;
    const close = text.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) break;
    let start = open;
    while (start > from && SPACE.test(text[start - 1]!)) start -= 1;
    let end = close + CLOSE.length;
    while (end < text.length && SPACE.test(text[end]!)) end += 1;
    blocks.push({ start, end, inner: text.slice(open + OPEN.length, close) });
    from = end;
  }
  return blocks;
}

/** The text without its suggestion blocks; a block between two paragraphs leaves a paragraph break. */
export function stripSuggestions(text: string): string {
  const blocks = findBlocks(text);
  if (blocks.length === 0) return text;
  let result = '';
  let kept = 0;
  for (const block of blocks) {
    result += text.slice(kept, block.start);
    if (block.start !== 0 && block.end !== text.length) result += '\n\n';
    kept = block.end;
  }
  return result + text.slice(kept);
}

/** The reply without its suggestion blocks, and the suggestions listed in them (one per line, "- " bullets optional). */
export function extractSuggestions(text: string): { text: string; suggestions: string[] } {
  const suggestions: string[] = [];
  for (const block of findBlocks(text)) {
    for (const line of block.inner.split('\n')) {
      const suggestion = line.replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '').trim();
      if (suggestion !== '') suggestions.push(suggestion);
    }
  }
  return { text: stripSuggestions(text), suggestions };
}

export function withoutSuggestions(message: ChatMessage): ChatMessage {
  return {
    ...message,
    content: stripSuggestions(message.content),
    content_html: message.content_html === null ? null : stripSuggestions(message.content_html),
  };
}
