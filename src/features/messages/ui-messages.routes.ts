import { Type } from '@fastify/type-provider-typebox';
import { validationError } from '../../errors.js';
import { errorResponses } from '../../http/schemas.js';
import { pumpEvents } from '../../http/sse-pump.js';
import type { TypedApp } from '../../http/typed-app.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import { scopeOf, streamNewMessage, type MessageStreamDependencies } from './message-streams.js';
import { EventStreamResponse, MAX_MESSAGE_CHARACTERS } from './messages.schemas.js';
import type { MessageInput } from './messages.service.js';
import { isRunEnd, STREAM_VIEWS } from './stream-formats.js';
import { UiMessagesRequest, UiMessagesStreamParams } from './ui-messages.schemas.js';

const tags = ['chat'];
const view = STREAM_VIEWS['ai-sdk'];

/**
 * The Vercel AI SDK's chat protocol, for `useChat` with `DefaultChatTransport` as shipped:
 * `api` is `…/chat/{agent_id}/ui-messages` and the chat id is a thread id. The POST adds the
 * user's message and streams the reply; the GET is the transport's reconnect URL
 * (`${api}/${chatId}/stream`), answering 204 when no run is active (the SDK's "nothing to
 * resume") and otherwise the active run's reply from its start, which the SDK rebuilds the
 * message from.
 */
export function registerUiMessageRoutes(app: TypedApp, dependencies: MessageStreamDependencies): void {
  app.addSchema(UiMessagesRequest);
  app.post('/api/v1/chat/:agent_id/ui-messages', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'streamUiMessages',
      summary: 'Add the AI SDK chat’s new message and stream the reply (AI SDK UI message stream)',
      description: 'For `useChat` with `DefaultChatTransport` unchanged; see docs/streaming.md.',
      'x-parley-extension': true,
      params: Type.Object({ agent_id: UiMessagesStreamParams.properties.agent_id }),
      body: Type.Ref(UiMessagesRequest),
      response: { 200: EventStreamResponse, ...errorResponses(400, 404, 409, 429) },
    },
    handler: async (request, reply) => {
      const body = request.body as typeof UiMessagesRequest.static;
      const message = newUserMessage(body);
      const scope = { ...scopeOf(request), threadId: body.id };
      await streamNewMessage({ request, reply, dependencies, scope, body: message, view });
    },
  });

  app.get('/api/v1/chat/:agent_id/ui-messages/:thread_id/stream', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'resumeUiMessages',
      summary: 'Resume the AI SDK chat: the active run’s reply from its start, or 204',
      'x-parley-extension': true,
      params: UiMessagesStreamParams,
      response: {
        200: EventStreamResponse,
        204: Type.Null({ description: 'No run is active on the thread: nothing to resume.' }),
        ...errorResponses(404, 429),
      },
    },
    handler: async (request, reply) => {
      const { messages, sse } = dependencies;
      const slot = sse.admit(request, reply);
      const scope = scopeOf(request);
      const active = await messages.activeRun(scope);
      if (!active) return reply.code(204).send(null);
      const stream = slot.open({ headers: view.headers, dialect: view.dialect });
      const events = messages.follow({ ...scope, after: active.after, signal: stream.signal, consumer: stream });
      const until = (event: LiveEvent) => isRunEnd(event, active.runId);
      await pumpEvents({ stream, events, toMessages: view.translator(), until, log: request.log });
    },
  });
}

/**
 * The user's new message: the last UI message, which must be the user's, made of text parts
 * (files and other parts are refused rather than dropped).
 */
function newUserMessage(body: typeof UiMessagesRequest.static): MessageInput {
  if (body.trigger === 'regenerate-message')
    throw validationError(['body', 'trigger'], 'regenerating a reply is not supported: send the message again');
  const index = body.messages.length - 1;
  const last = body.messages[index]!;
  if (last.role !== 'user')
    throw validationError(['body', 'messages', index, 'role'], `the last message must be the user's new message`);
  const texts: string[] = [];
  for (const [position, part] of last.parts.entries()) {
    const text = (part as { text?: unknown }).text;
    if (part.type !== 'text' || typeof text !== 'string')
      throw validationError(
        ['body', 'messages', index, 'parts', position],
        `only text parts are supported in a user message, not ${JSON.stringify(part.type)}`,
      );
    texts.push(text);
  }
  const content = texts.join('\n');
  if (content.trim() === '')
    throw validationError(['body', 'messages', index, 'parts'], 'the message has no text', 'string_too_short');
  if (content.length > MAX_MESSAGE_CHARACTERS)
    throw validationError(
      ['body', 'messages', index, 'parts'],
      `the message's text is longer than ${MAX_MESSAGE_CHARACTERS} characters`,
      'string_too_long',
    );
  return { role: 'user', content, metadata: { ui_message_id: last.id } };
}
