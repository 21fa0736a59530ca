import { Type } from '@sinclair/typebox';
import { CursorQuery, FreeObject, Metadata, Nullable, PaginationQuery, Uuid } from '../../http/schemas.js';

export const ToolCall = Type.Object(
  {
    tool_name: Type.String(),
    arguments: FreeObject,
    result: Type.Unknown({ description: 'What the tool returned (any JSON), or null.' }),
    error: Nullable(Type.String()),
    start_time: Type.String({ format: 'date-time' }),
    end_time: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'ToolCall', additionalProperties: false },
);

export const ChatMessageFeedbackSimple = Type.Object(
  {
    id: Uuid,
    human_message_id: Nullable(Uuid),
    ai_message_id: Nullable(Uuid),
    flow_execution_id: Nullable(Type.String()),
    user_id: Uuid,
    organization_id: Uuid,
    feedback_type: Nullable(Type.String()),
    issue_type: Nullable(Type.String()),
    comment: Nullable(Type.String()),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ChatMessageFeedbackSimple', additionalProperties: false },
);

export const ChatMessage = Type.Object(
  {
    id: Uuid,
    thread_id: Uuid,
    content: Type.String(),
    content_html: Nullable(Type.String()),
    role: Type.String({ pattern: '^(user|assistant|system|tool)$' }),
    tool_calls: Type.Array(Type.Ref(ToolCall)),
    attachments: Type.Array(FreeObject),
    metadata: FreeObject,
    created_at: Type.String({ format: 'date-time' }),
    feedback: Nullable(Type.Ref(ChatMessageFeedbackSimple)),
  },
  { $id: 'ChatMessage', additionalProperties: false, description: 'Model for individual chat messages.' },
);

export const ChatThread = Type.Object(
  {
    id: Uuid,
    agent_id: Uuid,
    user_id: Nullable(Uuid),
    anon_user_id: Nullable(Uuid),
    organization_id: Uuid,
    title: Nullable(Type.String()),
    metadata: FreeObject,
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    messages: Type.Array(Type.Ref(ChatMessage)),
  },
  { $id: 'ChatThread', additionalProperties: false, description: 'Model for chat threads.' },
);

export const ChatThreadCreate = Type.Object(
  {
    agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'If given, must equal the path agent_id.' })),
    title: Nullable(Type.String({ maxLength: 255 })),
    metadata: Type.Optional(Metadata),
  },
  { $id: 'ChatThreadCreate', additionalProperties: false, description: 'Model for creating a new chat thread.' },
);

/** A reference into a system outside Parley (a ticket, a comment): set by that system's integration. */
const ExternalReference = (description: string) =>
  Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255, description })));

export const ChatThreadUpdate = Type.Object(
  {
    title: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    metadata: Type.Optional(Metadata),
    ticket_id: ExternalReference(
      'The ticket this conversation became, in your ticketing system (null: none). Shown by the web-thread lists; `ticket=converted` finds it.',
    ),
    chat_history_parent_comment_id: ExternalReference(
      'The comment in your ticketing system that holds this chat’s history (null: none).',
    ),
    connected_to_platform: Type.Optional(
      Type.Boolean({ description: 'Whether the conversation is connected to your support platform.' }),
    ),
  },
  {
    $id: 'ChatThreadUpdate',
    additionalProperties: false,
    description:
      'Rename a thread, replace its metadata, or set its web-thread fields (Parley has no ticketing system: your integration records here what became of the chat). Fields left out stay as they are.',
  },
);

export const AgentPathParams = Type.Object({ agent_id: Uuid });
export const ThreadPathParams = Type.Object({ agent_id: Uuid, thread_id: Uuid });

export const ThreadListQuery = Type.Object({
  ...PaginationQuery,
  ...CursorQuery,
  include_messages: Type.Boolean({
    default: true,
    description: 'Embed each thread’s messages (extension; false leaves `messages` empty).',
  }),
});

export const ThreadGetQuery = Type.Object({
  include_messages: Type.Boolean({ default: true, description: 'Embed the thread’s messages (extension).' }),
});

export const MessageListQuery = Type.Object({
  ...PaginationQuery,
  ...CursorQuery,
  filter_suggestions: Type.Boolean({
    default: false,
    description: 'Remove `<suggestions>…</suggestions>` blocks from message content.',
  }),
});

export const ClearAllQuery = Type.Object({
  agent_id: Type.String({ format: 'uuid', description: 'Agent ID to filter chats by.' }),
});
