import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import createClient from 'openapi-fetch';
// Generated from the served document:
//   npx openapi-typescript http://localhost:8080/openapi.json -o generated/parley-api.d.ts
import type { paths } from './generated/parley-api.d.ts';

const BLANK_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000001';

export async function main({ baseUrl, apiKey }: { baseUrl: string; apiKey: string }) {
  const parley = createClient<paths>({ baseUrl, headers: { 'x-api-key': apiKey } });

  const { data: agent } = await parley.POST('/api/v1/agents', {
    body: { name: 'Typed client agent', configuration: { model: 'demo' }, template_id: BLANK_TEMPLATE_ID },
  });
  if (!agent) throw new Error('the agent was not created');
  const { data: agents } = await parley.GET('/api/v1/agents');

  const agentPath = { agent_id: agent.id };
  const { data: thread } = await parley.POST('/api/v1/chat/{agent_id}/threads', {
    params: { path: agentPath },
    body: { title: 'Hello from a typed client' },
  });
  if (!thread) throw new Error('the thread was not created');
  const { data: threads } = await parley.GET('/api/v1/chat/{agent_id}/threads', { params: { path: agentPath } });

  const threadPath = { agent_id: agent.id, thread_id: thread.id };
  const { data: reply } = await parley.POST('/api/v1/chat/{agent_id}/threads/{thread_id}/messages', {
    params: { path: threadPath },
    body: { role: 'user', content: 'Hello, Parley' },
  });
  const { data: messages } = await parley.GET('/api/v1/chat/{agent_id}/threads/{thread_id}/messages', {
    params: { path: threadPath },
  });
  const { data: fetched } = await parley.GET('/api/v1/chat/{agent_id}/threads/{thread_id}', {
    params: { path: threadPath },
  });

  // A retry with the same Idempotency-Key replays the first answer instead of creating again.
  const once = {
    params: { path: agentPath, header: { 'Idempotency-Key': `thread-${thread.id}` } },
    body: { title: null },
  };
  const first = await parley.POST('/api/v1/chat/{agent_id}/threads', once);
  const retried = await parley.POST('/api/v1/chat/{agent_id}/threads', once);

  // Errors are typed too: `error` is the documented error body of the status that came back.
  const missing = await parley.GET('/api/v1/chat/{agent_id}/threads/{thread_id}', {
    params: { path: { ...agentPath, thread_id: '00000000-0000-4000-8000-000000000000' } },
  });

  // The streaming routes answer text/event-stream: read the body as a stream of SSE frames.
  // `as const`: openapi-fetch 0.17 widens a string literal in the body while it still infers the
  // path, then types `data` without `parseAs` (as the schema's string) unless the literal stays.
  const streamed = await parley.POST('/api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream', {
    params: { path: threadPath },
    body: { role: 'user' as const, content: 'Stream this one' },
    parseAs: 'stream',
  });
  if (!streamed.data) throw new Error(`streamChatMessage answered ${streamed.response.status}`);
  const events = await readEvents(streamed.data, 'run-end');

  // Following the thread from the start of its log (Last-Event-ID: 0) replays the same run.
  const followed = await parley.GET('/api/v1/chat/{agent_id}/threads/{thread_id}/stream', {
    params: { path: threadPath, header: { 'Last-Event-ID': '0' } },
    parseAs: 'stream',
  });
  if (!followed.data) throw new Error(`followChatThread answered ${followed.response.status}`);
  const replayed = await readEvents(followed.data, 'run-end');

  return {
    agentId: agent.id,
    threadId: thread.id,
    agentName: agent.name,
    agentIds: agents?.map((listed) => listed.id),
    threadIds: threads?.map((listed) => listed.id),
    reply: reply && { role: reply.role, content: reply.content },
    messageRoles: messages?.map((message) => message.role),
    fetchedMessageCount: fetched?.messages.length,
    idempotency: {
      statuses: [first.response.status, retried.response.status],
      sameThread: first.data?.id === retried.data?.id,
      replayed: retried.response.headers.get('idempotent-replayed'),
    },
    missing: { status: missing.response.status, code: missing.error?.code, detail: missing.error?.detail },
    streamed: {
      contentType: streamed.response.headers.get('content-type'),
      events: events.map((event) => event.event),
      text: textOf(events),
    },
    followedEvents: replayed.map((event) => event.event),
  };
}

/** The events of an SSE body up to and including the first named `last` (or to its end). */
async function readEvents(body: ReadableStream<Uint8Array>, last: string): Promise<EventSourceMessage[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  const events: EventSourceMessage[] = [];
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      events.push(next.value);
      if (next.value.event === last) break;
    }
  } finally {
    // Ends the request: a follow stream stays open until the client goes.
    await reader.cancel();
  }
  return events;
}

function textOf(events: EventSourceMessage[]): string {
  return events
    .filter((event) => event.event === 'text-delta')
    .map((event) => (JSON.parse(event.data) as { delta: string }).delta)
    .join('');
}
