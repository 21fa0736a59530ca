import type { ChatThread } from './models.js';
import type { WidgetUser } from './widget.js';

/**
 * Web threads (docs/web-threads.md): an agent's threads started by chat-widget visitors
 * (`anon_user_id` set), as the contract's EnhancedWebThread shows them.
 */
export interface EnhancedWebThread extends ChatThread {
  /** The widget user the visitor was identified as, if they were. */
  widget_user: WidgetUser | null;
  message_count: number;
  ticket_id: string | null;
  chat_history_parent_comment_id: string | null;
  connected_to_platform: boolean;
}

export const FEEDBACK_FILTERS = ['positive', 'negative', 'any'] as const;
/** Threads with at least one answer rated so; `any`: rated at all. */
export type FeedbackFilterValue = (typeof FEEDBACK_FILTERS)[number];

export const TICKET_FILTERS = ['converted', 'chat_only'] as const;
/** `converted`: the thread has a `ticket_id`; `chat_only`: it has none. */
export type TicketFilterValue = (typeof TICKET_FILTERS)[number];

export const WEB_THREAD_SORTS = ['newest', 'oldest'] as const;
export type WebThreadSort = (typeof WEB_THREAD_SORTS)[number];

/** Which of an agent's web threads a search keeps; every field narrows, all combine. */
export interface WebThreadFilter {
  organizationId: string;
  agentId: string;
  /** Sanitised search terms of `q` (any of them in any of the thread's messages). */
  terms?: readonly string[] | undefined;
  feedback?: FeedbackFilterValue | undefined;
  ticket?: TicketFilterValue | undefined;
  /** Created at or after, UTC ISO (the stored form). */
  from?: string | undefined;
  /** Created at or before, UTC ISO. */
  to?: string | undefined;
}

/** What a thread update may change: its name and metadata, and its web-thread fields. */
export type ThreadChanges = Partial<
  Pick<ChatThread, 'title' | 'metadata'> &
    Pick<EnhancedWebThread, 'ticket_id' | 'chat_history_parent_comment_id' | 'connected_to_platform'>
>;
