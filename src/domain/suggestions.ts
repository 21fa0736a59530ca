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
const SUGGESTIONS_BLOCK = /\s*<suggestions>[\s\S]*?<\/suggestions>\s*/g;

export function stripSuggestions(text: string): string {
  return text.replace(SUGGESTIONS_BLOCK, (block, offset: number, whole: string) =>
    offset === 0 || offset + block.length === whole.length ? '' : '\n\n',
  );
}

/** The reply without its suggestion blocks, and the suggestions listed in them (one per line, "- " bullets optional). */
export function extractSuggestions(text: string): { text: string; suggestions: string[] } {
  const suggestions: string[] = [];
  for (const block of text.matchAll(/<suggestions>([\s\S]*?)<\/suggestions>/g)) {
    for (const line of block[1]!.split('\n')) {
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
