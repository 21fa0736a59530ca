import { ApiError, apiError } from './errors.js';
import type { SavedSession, SessionKeeper } from './session.js';
import type { StreamFrame } from './resume.js';
import { SseParser } from './sse-parser.js';

export interface ChatMessage {
  id: string;
  role: string;
  content: string;
  feedback: { feedback_type: string | null } | null;
  /** A reply being written is stored at once, empty: `{run_id, status: 'in_progress'}`. */
  metadata?: { run_id?: unknown; status?: unknown } | null;
}

/** A Parley stream event (docs/streaming.md): its JSON `data`, whose `type` names it. */
export interface StreamEvent {
  type: string;
  run_id?: string;
  status?: string;
  delta?: string;
  message?: ChatMessage;
  message_id?: string;
  role?: string;
  error?: { code: string; message: string };
  code?: string;
  detail?: string;
}

export type FeedbackType = 'positive' | 'negative' | null;

/**
 * The chat routes a visitor may call, with the visitor token as `Authorization: Bearer`. A 401
 * is answered once: renew (expired) or start a new session, then the request is sent again.
 */
export class WidgetApi {
  constructor(
    private readonly apiBase: string,
    readonly sessions: SessionKeeper,
  ) {}

  async latestThreadId(): Promise<string | null> {
    const threads = await this.#json<{ id: string }[]>(
      'GET',
      (s) => `${chat(s)}/threads?limit=1&include_messages=false`,
    );
    return threads[0]?.id ?? null;
  }

  createThread(title: string): Promise<{ id: string }> {
    return this.#json('POST', (s) => `${chat(s)}/threads`, { title, metadata: { source: 'widget' } });
  }

  messages(threadId: string): Promise<ChatMessage[]> {
    return this.#json('GET', (s) => `${chat(s)}/threads/${threadId}/messages?limit=100`);
  }

  feedback(messageId: string, type: FeedbackType): Promise<unknown> {
    return this.#json('POST', () => '/api/v1/feedback/chat', {
      message_id: messageId,
      source: 'widget',
      feedback_details: { feedback_type: type, issue_type: null, comment: null, context_id: null },
    });
  }

  identify(user: { id: string; hash: string; name: string | null; email: string | null }): Promise<unknown> {
    return this.#json('POST', () => '/api/v1/widget/identify', {
      user_id: user.id,
      user_hash: user.hash,
      name: user.name,
      email: user.email,
    });
  }

  /** Stops a running reply of the visitor's thread: its stream then ends with `run-end` (`cancelled`). */
  cancel(threadId: string, runId: string): Promise<unknown> {
    return this.#json('POST', (s) => `${chat(s)}/threads/${threadId}/runs/${runId}/cancel`);
  }

  /** Posts the visitor's message and yields the events of it and its reply, until the stream ends. */
  async *send(threadId: string, content: string, signal: AbortSignal): AsyncGenerator<StreamFrame<StreamEvent>> {
    const response = await this.#request(
      'POST',
      (s) => `${chat(s)}/threads/${threadId}/messages/stream`,
      { role: 'user', content },
      signal,
    );
    if (!response.ok) throw await apiError(response);
    yield* readEvents(response);
  }

  /** Follows the thread's stream from the event after `lastEventId`, until the caller stops reading. */
  async *follow(threadId: string, lastEventId: string, signal: AbortSignal): AsyncGenerator<StreamFrame<StreamEvent>> {
    const response = await this.#request('GET', (s) => `${chat(s)}/threads/${threadId}/stream`, undefined, signal, {
      'last-event-id': lastEventId,
    });
    if (!response.ok) throw await apiError(response);
    yield* readEvents(response);
  }

  async #json<T>(method: string, path: (session: SavedSession) => string, body?: unknown): Promise<T> {
    const response = await this.#request(method, path, body);
    if (!response.ok) throw await apiError(response);
    return (await response.json()) as T;
  }

  async #request(
    method: string,
    path: (session: SavedSession) => string,
    body?: unknown,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const attempt = (session: SavedSession) =>
      fetch(`${this.apiBase}${path(session)}`, {
        method,
        headers: {
          authorization: `Bearer ${session.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    const session = await this.sessions.current();
    const response = await attempt(session);
    if (response.status !== 401) return response;
    const error = await apiError(response);
    if (error.code !== 'widget_token_expired' && error.code !== 'invalid_widget_token') throw error;
    return attempt(await this.sessions.recover(session.token, error.code));
  }
}

function chat(session: SavedSession): string {
  return `/api/v1/chat/${session.agent_id}`;
}

/**
 * The JSON events of an SSE response body with their ids, read as it arrives. A reader that stops
 * early cancels the body: a thread stream never ends by itself.
 */
export async function* readEvents(response: Response): AsyncGenerator<StreamFrame<StreamEvent>> {
  if (!response.body) throw new ApiError(response.status, 'no_stream', 'The reply has no stream.');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const event of parser.feed(value)) yield { id: event.id, data: JSON.parse(event.data) as StreamEvent };
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
