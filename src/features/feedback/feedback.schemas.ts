import { Type } from '@sinclair/typebox';
import { MAX_LIST_OFFSET, Nullable, Uuid } from '../../http/schemas.js';

const FeedbackType = Type.Union([Type.Literal('positive'), Type.Literal('negative')]);
const NullableFeedbackType = (description?: string) =>
  Type.Union([Type.Literal('positive'), Type.Literal('negative'), Type.Null()], description ? { description } : {});
const Text = (maxLength: number, description?: string) =>
  Type.String({ maxLength, ...(description ? { description } : {}) });
const Timestamp = Type.String({ format: 'date-time' });

export const ChatMessageFeedbackUpdate = Type.Object(
  {
    feedback_type: Type.Optional(
      NullableFeedbackType("The rating; null (or absent) withdraws the author's rating of the message."),
    ),
    issue_type: Type.Optional(Nullable(Text(255))),
    comment: Type.Optional(Nullable(Text(10_000))),
    context_id: Type.Optional(Nullable(Text(255))),
  },
  { $id: 'ChatMessageFeedbackUpdate' },
);

export const FeedbackCreate = Type.Object(
  {
    message_id: Type.String({ maxLength: 64, description: 'The assistant message rated.' }),
    source: Text(64, "Where the rating was given, e.g. 'chat'."),
    feedback_details: Type.Ref(ChatMessageFeedbackUpdate),
  },
  { $id: 'FeedbackCreate' },
);

export const ChatMessageFeedback = Type.Object(
  {
    portkey_trace_id: Type.String({ description: 'Always "": this server syncs feedback nowhere.' }),
    user_id: Type.String({
      format: 'uuid',
      description: "Who gave it: the user, or a chat-widget visitor's anonymous id.",
    }),
    organization_id: Uuid,
    id: Nullable(Type.String({ format: 'uuid', description: 'Null only when nothing was there to revoke.' })),
    human_message_id: Nullable(Uuid),
    ai_message_id: Nullable(Uuid),
    flow_execution_id: Nullable(Type.String({ format: 'uuid' })),
    feedback_type: NullableFeedbackType(),
    issue_type: Nullable(Type.String()),
    comment: Nullable(Type.String()),
    portkey_synced: Type.Boolean(),
    portkey_sync_timestamp: Nullable(Timestamp),
    created_at: Nullable(Timestamp),
    updated_at: Nullable(Timestamp),
  },
  { $id: 'ChatMessageFeedback', additionalProperties: false },
);

export const FlowFeedbackCreate = Type.Object(
  {
    flow_execution_id: Type.String({ maxLength: 64 }),
    context_id: Text(255),
    source: Text(64),
    feedback_type: Type.Optional(
      NullableFeedbackType("The rating; null (or absent) withdraws the author's rating of the run."),
    ),
    issue_type: Type.Optional(Nullable(Text(255))),
    comment: Type.Optional(Nullable(Text(10_000))),
  },
  { $id: 'FlowFeedbackCreate' },
);

export const FlowFeedback = Type.Object(
  {
    id: Uuid,
    flow_execution_id: Type.String({ format: 'uuid' }),
    user_id: Uuid,
    organization_id: Uuid,
    created_at: Type.String(),
    updated_at: Type.String(),
    source: Type.String(),
    context_id: Nullable(Type.String()),
    feedback_type: NullableFeedbackType(),
    issue_type: Nullable(Type.String()),
    comment: Nullable(Type.String()),
    portkey_trace_id: Nullable(Type.String()),
    portkey_synced: Type.Boolean(),
  },
  { $id: 'FlowFeedback', additionalProperties: false },
);

export const FeedbackRecord = Type.Object(
  {
    id: Uuid,
    organization_id: Uuid,
    agent_id: Uuid,
    thread_id: Uuid,
    user_id: Type.String({ description: "The user who gave it, or the visitor's anonymous id." }),
    anon_user_id: Nullable(Type.String({ description: 'Set when a chat-widget visitor gave it.' })),
    human_message_id: Nullable(Uuid),
    ai_message_id: Nullable(Uuid),
    flow_execution_id: Nullable(Type.String()),
    feedback_type: Nullable(Type.String()),
    issue_type: Nullable(Type.String()),
    comment: Nullable(Type.String()),
    source: Nullable(Type.String()),
    context_id: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    $id: 'FeedbackRecord',
    additionalProperties: false,
    description: 'A rating of an answer, with its thread and agent.',
  },
);

export const FeedbackList = Type.Object(
  {
    feedback: Type.Array(Type.Ref(FeedbackRecord)),
    has_more: Type.Boolean({ description: 'Whether more ratings follow in this direction.' }),
  },
  { $id: 'FeedbackList', additionalProperties: false },
);

const FilterQuery = {
  agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'Only ratings in this agent’s threads.' })),
  feedback_type: Type.Optional(FeedbackType),
  issue_type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Given at or after this time.' })),
  to: Type.Optional(
    Type.String({ format: 'date-time', description: 'Given at or before this time; not before `from`.' }),
  ),
  anonymous: Type.Optional(
    Type.Boolean({ description: 'true: only chat-widget visitors’ ratings; false: only users’.' }),
  ),
};

export const FeedbackListQuery = Type.Object({
  ...FilterQuery,
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_LIST_OFFSET, default: 0 }),
  before: Type.Optional(
    Type.String({ format: 'uuid', description: 'A feedback id: the page of newer ratings just before it.' }),
  ),
  after: Type.Optional(
    Type.String({ format: 'uuid', description: 'A feedback id: the page of older ratings after it.' }),
  ),
});

export const FeedbackExportQuery = Type.Object({
  ...FilterQuery,
  format: Type.Union([Type.Literal('jsonl'), Type.Literal('csv')], { default: 'jsonl' }),
});
