import { Type } from '@sinclair/typebox';
import { Uuid } from '../../http/schemas.js';

/**
 * A UI message as the AI SDK's `DefaultChatTransport` sends it. Only the last one, the user's
 * new message, is read (the thread's history is the server's); the others are checked for shape
 * and otherwise ignored, as are fields a client adds through `useChat`'s `body` option.
 */
const UiMessagePart = Type.Object(
  { type: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: true },
);

const UiMessage = Type.Object(
  {
    id: Type.String({ maxLength: 200 }),
    role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant')]),
    parts: Type.Array(UiMessagePart, { maxItems: 1_000 }),
  },
  { additionalProperties: true },
);

export const UiMessagesRequest = Type.Object(
  {
    id: Type.String({
      format: 'uuid',
      description: "The chat id: the id of one of the agent's threads (`useChat({ id: thread_id })`).",
    }),
    messages: Type.Array(UiMessage, {
      minItems: 1,
      maxItems: 10_000,
      description: "The chat's messages; the last one is the user's new message, with `text` parts.",
    }),
    trigger: Type.Union([Type.Literal('submit-message'), Type.Literal('regenerate-message')], {
      description: '`submit-message`; `regenerate-message` is answered 422 (not supported).',
    }),
    messageId: Type.Optional(Type.String({ maxLength: 200 })),
  },
  {
    $id: 'UiMessagesRequest',
    additionalProperties: true,
    description: 'The body the Vercel AI SDK `DefaultChatTransport` sends, unchanged.',
  },
);

export const UiMessagesStreamParams = Type.Object({ agent_id: Uuid, thread_id: Uuid });
