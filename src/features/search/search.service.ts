import { AppError, validationError } from '../../errors.js';
import type { MessageHit, MessageMatch, ThreadHit } from '../../domain/message-search.js';
import { buildSnippet } from '../../domain/snippets.js';
import { queryTerms } from '../../knowledge/query-terms.js';
import type { Store } from '../../storage/store.js';

/** How many of a thread's matching messages the thread search shows. */
export const MATCHES_PER_THREAD = 3;

interface SearchPage {
  organizationId: string;
  q: string;
  limit: number;
  offset: number;
}

/** Message search (docs/search.md): the store finds and ranks, snippets are made here. */
export class SearchService {
  constructor(private readonly store: Store) {}

  /** The agent's threads whose messages match, best first; another organisation's agent is 404. */
  async threads(input: SearchPage & { agentId: string }): Promise<ThreadHit[]> {
    const terms = termsOf(input.q);
    const agent = await this.store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
    const found = await this.store.messageSearch.threads({ ...input, terms, matchesPerThread: MATCHES_PER_THREAD });
    const [threads, snippets] = await Promise.all([
      this.store.threads.getMany({ organizationId: input.organizationId, ids: found.map((hit) => hit.thread_id) }),
      this.#snippets(
        input.organizationId,
        terms,
        found.flatMap((hit) => hit.matches),
      ),
    ]);
    return found.flatMap((hit) => {
      const thread = threads.get(hit.thread_id);
      if (!thread) return [];
      const { messages: _messages, ...summary } = thread;
      const matches = hit.matches.map(({ thread_id: _thread, ...match }) => ({
        ...match,
        snippet: snippets.get(match.message_id) ?? '',
      }));
      return [{ thread: summary, rank: hit.rank, matches }];
    });
  }

  /** The organisation's matching messages, best first; an agent filter of no agent finds none. */
  async messages(
    input: SearchPage & { agentId?: string | undefined; role?: string | undefined },
  ): Promise<MessageHit[]> {
    const terms = termsOf(input.q);
    const found = await this.store.messageSearch.messages({ ...input, terms });
    const snippets = await this.#snippets(input.organizationId, terms, found);
    return found.map((match) => ({ ...match, snippet: snippets.get(match.message_id) ?? '' }));
  }

  async #snippets(organizationId: string, terms: string[], matches: MessageMatch[]): Promise<Map<string, string>> {
    const marked = await this.store.messageSearch.highlight({
      organizationId,
      terms,
      messageIds: matches.map((match) => match.message_id),
    });
    return new Map([...marked].map(([id, message]) => [id, buildSnippet(message.content, message.highlighted)]));
  }
}

/** `q`'s search terms; a `q` with none (only punctuation or very common words) is refused. */
export function termsOf(q: string): string[] {
  const terms = queryTerms(q);
  if (terms.length === 0)
    throw validationError(['query', 'q'], 'q has no words to search for (only punctuation or very common words)');
  return terms;
}
