import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import { validationError } from '../../errors.js';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import type { SseStream } from '../../http/sse.js';
import { pumpEvents } from '../../http/sse-pump.js';
import type { SseRegistry } from '../../http/sse-registry.js';
import { parseEventId } from '../../runtime/event-id.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import { ChatMessage } from '../threads/threads.schemas.js';
import { ThreadPathParams } from '../threads/threads.schemas.js';
import type { MessagesService, ResumePoint } from './messages.service.js';
import {
  ChatMessageCreate,
  EventStreamResponse,
  FollowQuery,
  RunCancelled,
  RunParams,
  StreamQuery,
} from './messages.schemas.js';
import { isRunEnd, STREAM_VIEWS, type StreamView } from './stream-formats.js';

type MessageRoutesDependencies = { messages: MessagesService; idempotency: Idempotency; sse: SseRegistry };

const tags = ['chat'];

export function registerMessageRoutes(parent: FastifyInstance, dependencies: MessageRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [ChatMessageCreate, RunCancelled]) app.addSchema(schema);
  registerMessagePostRoute(app, dependencies);
  registerMessageStreamRoute(app, dependencies);
  registerRunRoutes(app, dependencies);
}

function registerMessagePostRoute(app: TypedApp, dependencies: MessageRoutesDependencies): void {
  const { messages, idempotency } = dependencies;
  app.post('/api/v1/chat/:agent_id/threads/:thread_id/messages', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createChatMessage',
      summary: 'Add a message; a user message runs the agent and returns the stored reply',
      params: ThreadPathParams,
      body: Type.Ref(ChatMessageCreate),
      response: { 200: Type.Ref(ChatMessage), ...errorResponses(400, 404, 409, 502, 504) },
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
  const { messages, idempotency, sse } = dependencies;
  app.post('/api/v1/chat/:agent_id/threads/:thread_id/messages/stream', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
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
      // The stream's slot is taken first: a 429 stores nothing.
      const slot = sse.admit(request, reply);
      const scope = scopeOf(request);
      const view = STREAM_VIEWS[request.query.format];
      const started = await idempotency.begin(request, reply);
      if (started.kind === 'replayed') return;
      try {
        const body = request.body as typeof ChatMessageCreate.static;
        const added = await messages.add({ ...scope, body, idempotency: started.claim });
        const stream = slot.open({ headers: view.headers, dialect: view.dialect });
        if (added.kind === 'stored')
          return sendStored({ stream, view, events: added.events, release: started.release });
        const { run } = added;
        void run.completion.then(started.release, started.release);
        const events = messages.follow({ ...scope, after: run.after, signal: stream.signal, consumer: stream });
        const until = (event: LiveEvent) => isRunEnd(event, run.runId);
        await pumpEvents({ stream, events, toMessages: view.translator(), until, log: request.log });
      } catch (error) {
        started.release();
        throw error;
      }
    },
  });
}

function registerRunRoutes(app: TypedApp, dependencies: MessageRoutesDependencies): void {
  const { messages, sse } = dependencies;
  app.get('/api/v1/chat/:agent_id/threads/:thread_id/stream', {
    config: { scope: 'read', documentedHeaders: ['Last-Event-ID'] },
    schema: {
      tags,
      operationId: 'followChatThread',
      summary: 'Follow a thread live (SSE); resumes from Last-Event-ID',
      description:
        'Server-sent events; see docs/streaming.md. Without Last-Event-ID or `after`, only new events are sent.',
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
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'cancelRun',
      summary: 'Cancel a running reply',
      'x-parley-extension': true,
      params: RunParams,
      response: { 200: Type.Ref(RunCancelled), ...errorResponses(404, 409) },
    },
    handler: (request) => messages.cancel({ ...scopeOf(request), runId: request.params.run_id }),
  });
}

function scopeOf(request: FastifyRequest): { organizationId: string; agentId: string; threadId: string } {
  const params = request.params as { agent_id: string; thread_id: string };
  return { organizationId: principalOf(request).organizationId, agentId: params.agent_id, threadId: params.thread_id };
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

/** A message stored without a run: its stream is the message's own events, then the view's end. */
function sendStored(input: { stream: SseStream; view: StreamView; events: LiveEvent[]; release: () => void }): void {
  const { stream, view } = input;
  const toMessages = view.translator();
  for (const event of input.events) stream.sendAll(toMessages(event));
  stream.sendAll(view.end);
  stream.close();
  // Recorded with the message: a retry with the same key replays it from the store.
  input.release();
}
