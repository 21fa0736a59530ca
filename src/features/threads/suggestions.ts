import type { ChatMessage } from '../../domain/models.js';

/**
 * Agents may end a reply with follow-up suggestions in this markup (documented in docs/api.md):
 *
 *     <suggestions>
 *     - How do I reset my password?
 *     - Can I change my plan?
 *     </suggestions>
 *
 * `filter_suggestions=true` removes every such block from `content` and `content_html`.
 */
const SUGGESTIONS_BLOCK = /\s*<suggestions>[\s\S]*?<\/suggestions>\s*/g;

export function stripSuggestions(text: string): string {
  return text.replace(SUGGESTIONS_BLOCK, (block, offset: number, whole: string) =>
    offset === 0 || offset + block.length === whole.length ? '' : '\n\n',
  );
}

export function withoutSuggestions(message: ChatMessage): ChatMessage {
  return {
    ...message,
    content: stripSuggestions(message.content),
    content_html: message.content_html === null ? null : stripSuggestions(message.content_html),
  };
}
