import type { MessageFeedbackSimple } from './models.js';

/** The ratings the contract knows; `null` in a request revokes the author's rating. */
export type FeedbackType = 'positive' | 'negative';
export const FEEDBACK_TYPES: readonly FeedbackType[] = ['positive', 'negative'];

/**
 * Who gives feedback. A user of the organisation may rate any answer of it; a chat-widget
 * visitor only the answers of their own threads (`anon_user_id`) of their one agent.
 */
export type FeedbackAuthor =
  { kind: 'user'; userId: string } | { kind: 'anonymous'; anonymousUserId: string; agentId: string };

/** The id an author's ratings are stored under (`user_id`): the user's, or the visitor's anonymous id. */
export function authorIdOf(author: FeedbackAuthor): string {
  return author.kind === 'user' ? author.userId : author.anonymousUserId;
}

/** What a rating says, as a request gives it. */
export interface FeedbackDetails {
  feedback_type: FeedbackType | null;
  issue_type: string | null;
  comment: string | null;
  context_id: string | null;
}

/** A rating of a message as stored: the embedded shape, with where it is and who gave it. */
export interface StoredMessageFeedback extends MessageFeedbackSimple {
  thread_id: string;
  /** The visitor who gave it, or null for a user of the organisation. */
  anon_user_id: string | null;
  source: string | null;
  context_id: string | null;
}

/** A rating as the list shows it: with the agent of its thread. */
export interface FeedbackRecord extends StoredMessageFeedback {
  agent_id: string;
}

/** A rating as the export writes it: with the conversation it rates. */
export interface FeedbackExportRecord extends FeedbackRecord {
  /** The rated answer's text (null when the rating names no answer). */
  ai_message_content: string | null;
  /** The question before it. */
  human_message_content: string | null;
}

/** A rating of a run (flow execution) as stored. */
export interface StoredFlowFeedback {
  id: string;
  flow_execution_id: string;
  user_id: string;
  anon_user_id: string | null;
  organization_id: string;
  source: string;
  context_id: string | null;
  feedback_type: FeedbackType | null;
  issue_type: string | null;
  comment: string | null;
  created_at: string;
  updated_at: string;
}

/** What the list and the export are narrowed by; `from` and `to` bound `created_at`, inclusive, ISO-8601 UTC. */
export interface FeedbackFilter {
  organizationId: string;
  agentId?: string | undefined;
  feedbackType?: FeedbackType | undefined;
  issueType?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** true: only visitors' ratings; false: only users'. */
  anonymous?: boolean | undefined;
}

/**
 * A place in the list, which runs newest first by (`created_at`, `id`): `after` takes what comes
 * after it in that order (older ratings), `before` what comes just before it (newer ones).
 */
export interface FeedbackCursor {
  direction: 'before' | 'after';
  created_at: string;
  id: string;
}
