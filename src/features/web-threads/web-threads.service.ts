import { AppError } from '../../errors.js';
import type { ChatThread, Page } from '../../domain/models.js';
import type {
  EnhancedWebThread,
  FeedbackFilterValue,
  TicketFilterValue,
  WebThreadFilter,
  WebThreadSort,
} from '../../domain/web-threads.js';
import type { Store } from '../../storage/store.js';
import { cursorNotInList, cursorOf, type CursorParameters } from '../cursor-pages.js';
import { termsOf } from '../search/search.service.js';
import { withMessages } from '../threads/threads.service.js';
import { utcTimeRange, type TimeRange } from '../time-range.js';

interface AgentScope {
  organizationId: string;
  agentId: string;
}

/** A page of a web-thread list, as the query gave it. */
type ListPage = Page & CursorParameters & { include_messages: boolean };

/** The search's query parameters (docs/web-threads.md). */
export type WebThreadSearch = ListPage &
  TimeRange & {
    q?: string | undefined;
    feedback?: FeedbackFilterValue | undefined;
    ticket?: TicketFilterValue | undefined;
    sort: WebThreadSort;
  };

/**
 * Web threads (docs/web-threads.md): an agent's threads started by chat-widget visitors, for the
 * organisation's users. The store filters and pages; messages are embedded as the thread list
 * embeds them.
 */
export class WebThreadsService {
  constructor(private readonly store: Store) {}

  /** Newest first, as ChatThread (the contract's #10). */
  async list(input: AgentScope & { page: ListPage }): Promise<ChatThread[]> {
    const threads = await this.#read({ ...input, filter: scopeOf(input), sort: 'newest' });
    return threads.map(
      ({
        widget_user: _user,
        message_count: _count,
        ticket_id: _ticket,
        chat_history_parent_comment_id: _comment,
        connected_to_platform: _connected,
        ...thread
      }) => thread,
    );
  }

  /** Newest first, with widget user, message count and ticket fields (the contract's #11). */
  enhanced(input: AgentScope & { page: ListPage }): Promise<EnhancedWebThread[]> {
    return this.#read({ ...input, filter: scopeOf(input), sort: 'newest' });
  }

  /** The web threads that pass every filter given, by date (the contract's #12). */
  search(input: AgentScope & { query: WebThreadSearch }): Promise<EnhancedWebThread[]> {
    const { query } = input;
    const filter: WebThreadFilter = {
      organizationId: input.organizationId,
      agentId: input.agentId,
      terms: query.q === undefined ? undefined : termsOf(query.q),
      feedback: query.feedback,
      ticket: query.ticket,
      ...utcTimeRange(query),
    };
    return this.#read({ ...input, page: query, filter, sort: query.sort });
  }

  async #read(
    input: AgentScope & { page: ListPage; filter: WebThreadFilter; sort: WebThreadSort },
  ): Promise<EnhancedWebThread[]> {
    const { organizationId, page } = input;
    const cursor = cursorOf(page);
    const agent = await this.store.agents.get({ organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
    const threads = await this.store.webThreads.list({
      ...input.filter,
      order: input.sort === 'newest' ? 'desc' : 'asc',
      cursor,
      limit: page.limit,
      offset: page.offset,
    });
    if (!threads) throw cursorNotInList(cursor);
    return page.include_messages ? withMessages(this.store, organizationId, threads) : threads;
  }
}

function scopeOf(input: AgentScope): WebThreadFilter {
  return { organizationId: input.organizationId, agentId: input.agentId };
}
