import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, validationError } from '../../errors.js';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import { SseStream, type SseRegistry } from '../../http/sse.js';
import { parseEventId, type EventId } from '../../runtime/event-id.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import { ChatMessage } from '../threads/threads.schemas.js';
import { ThreadPathParams } from '../threads/threads.schemas.js';
import type { MessagesService } from './messages.service.js';
import { ChatMessageCreate, FollowQuery, RunCancelled, RunParams, StreamQuery } from './messages.schemas.js';
import { AI_SDK_HEADERS, isRunEnd, toAiSdkMessages, toParleyMessage, type StreamFormat } from './stream-formats.js';

export function registerMessageRoutes(
  parent: FastifyInstance,
  dependencies: { messages: MessagesService; idempotency: Idempotency; sse: SseRegistry; keepAliveMs: number },
): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { messages, idempotency } = dependencies;
  for (const schema of [ChatMessageCreate, RunCancelled]) app.addSchema(schema);
  const tags = ['chat'];
  const openStream = (request: FastifyRequest, reply: FastifyReply, format: StreamFormat) =>
    new SseStream({
      request,
      reply,
      keepAliveMs: dependencies.keepAliveMs,
      registry: dependencies.sse,
      headers: format === 'ai-sdk' ? { ...AI_SDK_HEADERS } : {},
    });

  app.post('/api/v1/chat/:agent_id/threads/:thread_id/messages', {
    config: { scope: 'write' },
    schema: {
      tags,
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

  app.post('/api/v1/chat/:agent_id/threads/:thread_id/messages/stream', {
    config: { scope: 'write' },
    schema: {
      tags,
      summary: 'Add a message and stream the reply (SSE)',
      description:
        'Server-sent events; see docs/streaming.md. The last event (`run-end` or `run-error`) carries the stored message.',
      params: ThreadPathParams,
      querystring: StreamQuery,
      body: Type.Ref(ChatMessageCreate),
      response: { 200: Type.Any({ description: 'text/event-stream' }), ...errorResponses(400, 404, 409) },
    },
    handler: async (request, reply) => {
      const scope = scopeOf(request);
      const format = request.query.format;
      const started = await idempotency.begin(request, reply);
      if (started.kind === 'replayed') return;
      try {
        const added = await messages.add({
          ...scope,
          body: request.body as typeof ChatMessageCreate.static,
          idempotency: started.claim,
        });
        const stream = openStream(request, reply, format);
        if (added.kind === 'stored') {
          // No run: the stream is the message's own two events.
          for (const event of added.events) {
            for (const message of format === 'ai-sdk' ? toAiSdkMessages(event) : [toParleyMessage(event)])
              stream.send(message);
          }
          if (format === 'ai-sdk') stream.send({ data: '[DONE]' });
          stream.close();
          return;
        }
        const { run } = added;
        void run.completion.then(started.release, started.release);
        await pump({
          stream,
          format,
          log: request.log,
          events: messages.follow({ ...scope, after: run.after, signal: stream.signal }),
          until: (event) => isRunEnd(event, run.runId),
        });
      } catch (error) {
        started.release();
        throw error;
      }
    },
  });

  app.get('/api/v1/chat/:agent_id/threads/:thread_id/stream', {
    config: { scope: 'read' },
    schema: {
      tags,
      summary: 'Follow a thread live (SSE); resumes from Last-Event-ID',
      description:
        'Server-sent events; see docs/streaming.md. Without Last-Event-ID or `after`, only new events are sent.',
      params: ThreadPathParams,
      querystring: FollowQuery,
      response: { 200: Type.Any({ description: 'text/event-stream' }), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      const scope = scopeOf(request);
      const after = await messages.prepareFollow({ ...scope, after: resumePoint(request, request.query.after) });
      const stream = openStream(request, reply, request.query.format);
      await pump({
        stream,
        format: request.query.format,
        log: request.log,
        events: messages.follow({ ...scope, after, signal: stream.signal }),
        until: () => false,
      });
    },
  });

  app.post('/api/v1/chat/:agent_id/threads/:thread_id/runs/:run_id/cancel', {
    config: { scope: 'write' },
    schema: {
      tags,
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
function resumePoint(request: FastifyRequest, after: string | undefined): EventId | null {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header.trim() !== '') {
    const parsed = parseEventId(header);
    if (!parsed)
      throw validationError(
        ['header', 'last-event-id'],
        'Last-Event-ID must be an event id such as 42 or 42.7',
        'value_error',
      );
    return parsed;
  }
  return after === undefined ? null : parseEventId(after);
}

/**
 * Writes events to the stream until `until` says the last one went out or the client leaves. An
 * error after the headers are sent becomes an in-band `error` event.
 */
async function pump(input: {
  stream: SseStream;
  format: StreamFormat;
  log: FastifyBaseLogger;
  events: AsyncGenerator<LiveEvent>;
  until: (event: LiveEvent) => boolean;
}): Promise<void> {
  const { stream, format, events } = input;
  try {
    for await (const event of events) {
      const messages = format === 'ai-sdk' ? toAiSdkMessages(event) : [toParleyMessage(event)];
      for (const message of messages) stream.send(message);
      if (input.until(event)) break;
    }
  } catch (error) {
    // Like any 5xx, an unexpected failure is logged (with the request id) for the operator.
    if (!(error instanceof AppError) || error.status >= 500)
      input.log.error({ err: error }, 'stream failed after its headers were sent');
    const detail =
      error instanceof AppError
        ? { code: error.code, detail: error.message }
        : { code: 'internal_error', detail: 'Internal Server Error' };
    stream.send({ event: 'error', data: JSON.stringify(detail) });
  } finally {
    await events.return(undefined);
    stream.close();
  }
}
