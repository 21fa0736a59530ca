import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import { validationError } from '../../errors.js';
import { errorResponses } from '../../http/schemas.js';
import { pumpEvents } from '../../http/sse-pump.js';
import { parseEventId } from '../../runtime/event-id.js';
import { ChatMessage } from '../threads/threads.schemas.js';
import { ThreadPathParams } from '../threads/threads.schemas.js';
import type { ResumePoint } from './messages.service.js';
import {
  ChatMessageCreate,
  EventStreamResponse,
  FollowQuery,
  RunCancelled,
  RunParams,
  StreamQuery,
} from './messages.schemas.js';
import { scopeOf, streamNewMessage, type MessageStreamDependencies } from './message-streams.js';
import { registerUiMessageRoutes } from './ui-messages.routes.js';
import { registerToolApprovalRoutes } from './tool-approvals.routes.js';
import { STREAM_VIEWS } from './stream-formats.js';

type MessageRoutesDependencies = MessageStreamDependencies;

const tags = ['chat'];

export function registerMessageRoutes(parent: FastifyInstance, dependencies: MessageRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [ChatMessageCreate, RunCancelled]) app.addSchema(schema);
  registerMessagePostRoute(app, dependencies);
  registerMessageStreamRoute(app, dependencies);
  registerRunRoutes(app, dependencies);
  registerUiMessageRoutes(app, dependencies);
  registerToolApprovalRoutes(app, dependencies);
}

function registerMessagePostRoute(app: TypedApp, dependencies: MessageRoutesDependencies): void {
  const { messages, idempotency } = dependencies;
  app.post('/api/v1/chat/:agent_id/threads/:thread_id/messages', {
    // A widget visitor posts user messages to their own threads only (MessagesService.add).
    config: { scope: 'write', anonymous: true, documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createChatMessage',
      summary: 'Add a message; a user message runs the agent and returns the stored reply',
      params: ThreadPathParams,
      body: Type.Ref(ChatMessageCreate),
      response: { 200: Type.Ref(ChatMessage), ...errorResponses(400, 404, 409, 429, 502, 504) },
    },
    handler: async (request, reply) => {
      const scope = scopeOf(request);
      const started = await idempotency.begin(request, reply);
      if (started.kind === 'replayed') return;
      try {
        const message = await messages.addAndWait({
          ...scope,
          body: request.body as typeof ChatMessageCreate.static,
          idempotency: started.claim,
        });
        await reply.send(message);
      } finally {
        started.release();
      }
    },
  });
}

function registerMessageStreamRoute(app: TypedApp, dependencies: MessageRoutesDependencies): void {
  app.post('/api/v1/chat/:agent_id/threads/:thread_id/messages/stream', {
    config: { scope: 'write', anonymous: true, documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'streamChatMessage',
      summary: 'Add a message and stream the reply (SSE)',
      description:
        'Server-sent events; see docs/streaming.md. The last event (`run-end` or `run-error`) carries the stored message.',
      params: ThreadPathParams,
      querystring: StreamQuery,
      body: Type.Ref(ChatMessageCreate),
      response: { 200: EventStreamResponse, ...errorResponses(400, 404, 409, 429) },
    },
    handler: async (request, reply) => {
      const body = request.body as typeof ChatMessageCreate.static;
      const view = STREAM_VIEWS[request.query.format];
      await streamNewMessage({ request, reply, dependencies, scope: scopeOf(request), body, view });
    },
  });
}

function registerRunRoutes(app: TypedApp, dependencies: MessageRoutesDependencies): void {
  const { messages, sse } = dependencies;
  app.get('/api/v1/chat/:agent_id/threads/:thread_id/stream', {
    // The one route that also takes a stream token, `?token=` (a browser's EventSource sends no headers).
    config: { scope: 'read', streamToken: true, anonymous: true, documentedHeaders: ['Last-Event-ID'] },
    schema: {
      tags,
      operationId: 'followChatThread',
      summary: 'Follow a thread live (SSE); resumes from Last-Event-ID',
      description:
        'Server-sent events; see docs/streaming.md. Without Last-Event-ID or `after`, only new events are sent. Authenticate with `x-api-key`, with `?token=` from `POST …/stream-token` (an `x-api-key` header wins), or as a chat-widget visitor with `Authorization: Bearer` for their own thread.',
      params: ThreadPathParams,
      querystring: FollowQuery,
      response: { 200: EventStreamResponse, ...errorResponses(404, 429) },
    },
    handler: async (request, reply) => {
      const slot = sse.admit(request, reply);
      const scope = scopeOf(request);
      const view = STREAM_VIEWS[request.query.format];
      const after = await messages.prepareFollow({ ...scope, resume: resumePoint(request, request.query.after) });
      const stream = slot.open({ headers: view.headers, dialect: view.dialect });
      const events = messages.follow({ ...scope, after, signal: stream.signal, consumer: stream });
      await pumpEvents({ stream, events, toMessages: view.translator(), until: () => false, log: request.log });
    },
  });

  app.post('/api/v1/chat/:agent_id/threads/:thread_id/runs/:run_id/cancel', {
    // A widget visitor may stop a reply in their own thread (the widget's Stop button).
    config: { scope: 'write', anonymous: true },
    schema: {
      tags,
      operationId: 'cancelRun',
      summary: 'Cancel a running reply, or one waiting for tool approvals',
      'x-parley-extension': true,
      params: RunParams,
      response: { 200: Type.Ref(RunCancelled), ...errorResponses(404, 409, 503) },
    },
    handler: (request) => messages.cancel({ ...scopeOf(request), runId: request.params.run_id }),
  });
}

/** `Last-Event-ID` wins over `?after=`; a malformed header is a 422 like any bad input. */
function resumePoint(request: FastifyRequest, after: string | undefined): ResumePoint | null {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header.trim() !== '') {
    const parsed = parseEventId(header);
    if (!parsed)
      throw validationError(
        ['header', 'last-event-id'],
        'Last-Event-ID must be an event id such as 42 or 42.7',
        'value_error',
      );
    return { id: parsed, loc: ['header', 'last-event-id'] };
  }
  const parsed = after === undefined ? null : parseEventId(after);
  return parsed === null ? null : { id: parsed, loc: ['query', 'after'] };
}
