import type { StoredFlowFeedback, StoredMessageFeedback } from '../../domain/feedback.js';
import type { MessageFeedbackSimple } from '../../domain/models.js';

/**
 * `ChatMessageFeedback`: a rating with the contract's Portkey fields, which this server keeps
 * empty (it syncs nowhere). `portkey_trace_id` is a required string there, so it is `""`, not
 * null. A revocation with nothing to revoke has no `id` and no timestamps (all nullable there).
 */
export interface ChatMessageFeedbackView extends Omit<MessageFeedbackSimple, 'id' | 'created_at' | 'updated_at'> {
  id: string | null;
  created_at: string | null;
  updated_at: string | null;
  feedback_type: 'positive' | 'negative' | null;
  portkey_trace_id: string;
  portkey_synced: boolean;
  portkey_sync_timestamp: string | null;
}

/** `FlowFeedback`; its `portkey_trace_id` is nullable, and null. */
export type FlowFeedbackView = Omit<StoredFlowFeedback, 'anon_user_id'> & {
  portkey_trace_id: string | null;
  portkey_synced: boolean;
};

type ChatRating = Omit<MessageFeedbackSimple, 'id' | 'created_at' | 'updated_at'> & {
  id: string | null;
  created_at: string | null;
  updated_at: string | null;
};

/** The rating as `ChatMessage.feedback` embeds it. */
export function simpleOf(rating: StoredMessageFeedback): MessageFeedbackSimple {
  return {
    id: rating.id,
    human_message_id: rating.human_message_id,
    ai_message_id: rating.ai_message_id,
    flow_execution_id: rating.flow_execution_id,
    user_id: rating.user_id,
    organization_id: rating.organization_id,
    feedback_type: rating.feedback_type,
    issue_type: rating.issue_type,
    comment: rating.comment,
    created_at: rating.created_at,
    updated_at: rating.updated_at,
  };
}

export function chatViewOf(rating: ChatRating): ChatMessageFeedbackView {
  return {
    ...rating,
    // Stored only through the API, which takes these two.
    feedback_type: rating.feedback_type as ChatMessageFeedbackView['feedback_type'],
    portkey_trace_id: '',
    portkey_synced: false,
    portkey_sync_timestamp: null,
  };
}

export function flowViewOf(rating: StoredFlowFeedback): FlowFeedbackView {
  const { anon_user_id: _anonymousUserId, ...fields } = rating;
  return { ...fields, portkey_trace_id: null, portkey_synced: false };
}
