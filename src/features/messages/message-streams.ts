import type { FastifyReply, FastifyRequest } from 'fastify';
import { principalOf, visitorOf } from '../../http/auth.js';
import type { ThreadVisitor } from '../../domain/widget.js';
import type { Idempotency } from '../../http/idempotency.js';
import type { SseStream } from '../../http/sse.js';
import { pumpEvents } from '../../http/sse-pump.js';
import type { SseRegistry } from '../../http/sse-registry.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import type { MessageInput, MessagesService } from './messages.service.js';
import { isRunEnd, type StreamView } from './stream-formats.js';

export interface MessageStreamDependencies {
  messages: MessagesService;
  idempotency: Idempotency;
  sse: SseRegistry;
}

/**
 * Adds a message and streams, in `view`, its events and those of the run it starts, until that
 * run ends: what `POST …/messages/stream` and the `ui-messages` route answer. The stream's slot
 * is taken first, so a 429 stores nothing; a disconnected client stops the stream, not the run.
 */
export async function streamNewMessage(input: {
  request: FastifyRequest;
  reply: FastifyReply;
  dependencies: MessageStreamDependencies;
  scope: MessageScope;
  body: MessageInput;
  view: StreamView;
}): Promise<void> {
  const { request, reply, scope, body, view } = input;
  const { messages, idempotency, sse } = input.dependencies;
  const slot = sse.admit(request, reply);
  const started = await idempotency.begin(request, reply);
  if (started.kind === 'replayed') return;
  try {
    const added = await messages.add({ ...scope, body, idempotency: started.claim });
    const stream = slot.open({ headers: view.headers, dialect: view.dialect });
    if (added.kind === 'stored') return sendStored({ stream, view, events: added.events, release: started.release });
    const { run } = added;
    void run.completion.then(started.release, started.release);
    const events = messages.follow({ ...scope, after: run.after, signal: stream.signal, consumer: stream });
    const until = (event: LiveEvent) => isRunEnd(event, run.runId);
    await pumpEvents({ stream, events, toMessages: view.translator(), until, log: request.log });
  } catch (error) {
    started.release();
    throw error;
  }
}

/** The thread a request names, in the caller's organisation, and the widget visitor it is for (if any). */
export interface MessageScope {
  organizationId: string;
  agentId: string;
  threadId: string;
  /** Set for a widget visitor, who may reach only their own threads (404 for any other). */
  visitor: ThreadVisitor | null;
}

export function scopeOf(request: FastifyRequest): MessageScope {
  const params = request.params as { agent_id: string; thread_id: string };
  const principal = principalOf(request);
  return {
    organizationId: principal.organizationId,
    agentId: params.agent_id,
    threadId: params.thread_id,
    visitor: visitorOf(principal),
  };
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
