import { Type } from '@sinclair/typebox';
import { MESSAGE_ROLES } from '../../domain/models.js';
import { Metadata, Nullable, Uuid } from '../../http/schemas.js';

/** Longest message content accepted, in characters. */
export const MAX_MESSAGE_CHARACTERS = 32_768;

export const ChatMessageCreate = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_CHARACTERS }),
    role: Type.Union(
      MESSAGE_ROLES.map((role) => Type.Literal(role)),
      { description: '`user` runs the agent; other roles are stored as they are (importing history).' },
    ),
    content_html: Type.Optional(Nullable(Type.String({ maxLength: MAX_MESSAGE_CHARACTERS * 2 }))),
    metadata: Type.Optional(Metadata),
    agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'If given, must equal the path agent_id.' })),
  },
  { $id: 'ChatMessageCreate', additionalProperties: false, description: 'Model for creating a new chat message.' },
);

export const StreamQuery = Type.Object({
  format: Type.Union([Type.Literal('parley'), Type.Literal('ai-sdk')], {
    default: 'parley',
    description: '`parley` (named events, docs/streaming.md) or `ai-sdk` (Vercel AI SDK UI message stream).',
  }),
});

export const FollowQuery = Type.Object({
  format: StreamQuery.properties.format,
  after: Type.Optional(
    Type.String({
      pattern: '^\\d{1,15}(\\.\\d{1,9})?$',
      description: 'Replay events after this id (like Last-Event-ID); `0` replays the whole log.',
    }),
  ),
});

export const RunParams = Type.Object({ agent_id: Uuid, thread_id: Uuid, run_id: Uuid });

export const RunCancelled = Type.Object(
  { run_id: Uuid, status: Type.String(), message_id: Uuid },
  { $id: 'RunCancelled', additionalProperties: false },
);

/**
 * The 200 of both streaming routes, for the OpenAPI document: the body is an SSE stream (the
 * route writes it itself; nothing is serialised from this schema). The events are listed in
 * docs/streaming.md.
 */
export const EventStreamResponse = {
  description:
    'Server-sent events. `format=parley` (default): named events `message-start`, `text-delta`, `tool-call-start`, `tool-call-end`, `tool-approval-request`, `message-end`, `run-start`, `run-end`, `run-error`, `stream-error` and `shutdown`, each with an `id:` (resume with Last-Event-ID) and a JSON `data:` object whose first field `type` repeats the event name. `format=ai-sdk`: the Vercel AI SDK UI message stream (`data:` JSON chunks such as `start`, `text-delta`, `tool-input-available`, `tool-approval-request`, `finish`, then `data: [DONE]`). See docs/streaming.md.',
  content: {
    'text/event-stream': {
      schema: Type.String({
        description: 'An SSE stream (`id:`, `event:` and `data:` lines, frames separated by a blank line).',
      }),
    },
  },
};
