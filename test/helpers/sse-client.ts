import { createParser } from 'eventsource-parser';
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import type { ReadableStreamReadResult } from 'node:stream/web';
import { expect } from 'vitest';

/**
 * A real server-sent-events client for the HTTP suites: `fetch` over loopback, frames parsed by
 * `eventsource-parser` (as a browser's EventSource would), every read bounded by a deadline, and
 * the connection droppable at any point like a client that goes away.
 */

/** One parsed frame: `data` is the JSON payload (or the raw text when it is not JSON, e.g. `[DONE]`). */
export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: any;
  /** The `data` text as received. */
  text: string;
}

export interface SseRequest {
  method?: 'GET' | 'POST';
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 5_000;

function requestInit(options: SseRequest, signal: AbortSignal): RequestInit {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.key) headers['x-api-key'] = options.key;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    signal,
  };
}

function toEvent(message: EventSourceMessage): SseEvent {
  let data: unknown = message.data;
  try {
    data = JSON.parse(message.data);
  } catch {
    // not JSON ([DONE]); keep the text
  }
  return { id: message.id, event: message.event, data, text: message.data };
}

export class SseConnection {
  /** Every event received so far, in order. */
  readonly received: SseEvent[] = [];
  #ended = false;
  #pending: Promise<ReadableStreamReadResult<EventSourceMessage>> | null = null;

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
    private readonly reader: ReadableStreamDefaultReader<EventSourceMessage> | null,
    /** The JSON body of a response that is not an event stream (an error before the stream). */
    readonly body: any,
    /** Comments (`: keep-alive`) received so far. */
    readonly comments: string[] = [],
  ) {}

  /**
   * Sends the request and waits (bounded) for the response headers. A response that is not
   * `text/event-stream` is read whole into `body`.
   */
  static async open(url: string, options: SseRequest = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SseConnection> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no response headers from ${url} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let response: Response;
    try {
      response = await fetch(url, requestInit(options, controller.signal));
    } finally {
      clearTimeout(timer);
    }
    if (!String(response.headers.get('content-type')).startsWith('text/event-stream') || !response.body) {
      const text = await withDeadline(response.text(), timeoutMs, `body of ${url}`);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
      const connection = new SseConnection(response, controller, null, body);
      connection.#ended = true;
      return connection;
    }
    const comments: string[] = [];
    const reader = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream({ onComment: (comment) => comments.push(comment) }))
      .getReader();
    return new SseConnection(response, controller, reader, undefined, comments);
  }

  get status(): number {
    return this.response.status;
  }

  header(name: string): string | null {
    return this.response.headers.get(name);
  }

  /** True once the server ended the stream (or it was aborted). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next event; null when the stream has ended. Throws when none arrives in time. */
  async next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SseEvent | null> {
    if (this.#ended || !this.reader) return null;
    this.#pending ??= this.reader.read();
    let result: ReadableStreamReadResult<EventSourceMessage>;
    try {
      result = await withDeadline(this.#pending, timeoutMs, `next event (after ${this.received.at(-1)?.id ?? 'none'})`);
    } catch (error) {
      if (error instanceof DeadlineError) throw error;
      // The connection was aborted or broke: that is an end.
      this.#pending = null;
      this.#ended = true;
      return null;
    }
    this.#pending = null;
    if (result.done) {
      this.#ended = true;
      return null;
    }
    const event = toEvent(result.value);
    this.received.push(event);
    return event;
  }

  /** Reads up to and including the first event that matches; throws if the stream ends first. */
  async readUntil(predicate: (event: SseEvent) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    const events: SseEvent[] = [];
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (event === null) {
        throw new Error(
          `stream ended before the awaited event; got ${events.map((e) => `${e.id}:${e.event}`).join(' ')}`,
        );
      }
      events.push(event);
      if (predicate(event)) return events;
    }
  }

  /** Reads every remaining event until the server ends the stream. */
  async readToEnd(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    const events: SseEvent[] = [];
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (event === null) return events;
      events.push(event);
    }
  }

  /** Drops the connection, as a client that goes away does. */
  abort(): void {
    this.#ended = true;
    this.controller.abort();
    this.#pending?.catch(() => undefined);
    this.reader?.cancel().catch(() => undefined);
  }
}

/** Reads a whole response as text (for byte-exact framing checks), bounded. */
export async function readRaw(
  url: string,
  options: SseRequest = {},
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<{ status: number; headers: Headers; text: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`${url} did not end within ${timeoutMs} ms`)), timeoutMs);
  try {
    const response = await fetch(url, requestInit(options, controller.signal));
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } finally {
    clearTimeout(timer);
  }
}

/** The events of a whole response body read with `readRaw`, parsed as the live client parses them. */
export function parseEvents(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  createParser({ onEvent: (message) => events.push(toEvent(message)) }).feed(text);
  return events;
}

class DeadlineError extends Error {}

function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls `probe` until it returns a value other than undefined; throws at the deadline. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}

/** The frame shape to compare streams with: id, event name and payload. */
export function frames(events: SseEvent[]): { id: string | undefined; event: string | undefined; data: unknown }[] {
  return events.map(({ id, event, data }) => ({ id, event, data }));
}

/** `4` → [4, 0], `4.3` → [4, 3]. */
export function idParts(id: string | undefined): [number, number] {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(id ?? '');
  if (!match) throw new Error(`not an event id: ${id}`);
  return [Number(match[1]), match[2] === undefined ? 0 : Number(match[2])];
}

export function isDelta(event: SseEvent): boolean {
  return event.id !== undefined && event.id.includes('.');
}

/* ------------------------------------------------------------------------------------------ */
/* What the stream said against what was stored.                                              */
/* ------------------------------------------------------------------------------------------ */

export interface ThreadRef {
  base: string;
  key: string;
  agentId: string;
  threadId: string;
}

/** A JSON request over real HTTP. */
export async function httpJson(
  base: string,
  key: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = {};
  if (key) headers['x-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed: unknown = text === '' ? undefined : text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export function threadPath(thread: Pick<ThreadRef, 'agentId' | 'threadId'>): string {
  return `/api/v1/chat/${thread.agentId}/threads/${thread.threadId}`;
}

/** The stored messages of the thread (oldest first). */
export async function storedMessages(thread: ThreadRef): Promise<any[]> {
  const response = await httpJson(thread.base, thread.key, 'GET', `${threadPath(thread)}/messages?limit=100`);
  if (response.status !== 200) throw new Error(`GET messages: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function storedExecution(thread: ThreadRef, runId: string): Promise<any> {
  const response = await httpJson(thread.base, thread.key, 'GET', `/api/v1/flows/executions/${runId}`);
  if (response.status !== 200) throw new Error(`GET execution: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * The thread's log replayed with `?after=0` up to durable event `untilSeq` (inclusive): every
 * durable event from the store, with the deltas the server still buffers.
 */
export async function replayLog(thread: ThreadRef, untilSeq: number, query = ''): Promise<SseEvent[]> {
  const connection = await SseConnection.open(`${thread.base}${threadPath(thread)}/stream?after=0${query}`, {
    key: thread.key,
  });
  if (connection.status !== 200) throw new Error(`replay: ${connection.status} ${JSON.stringify(connection.body)}`);
  try {
    if (untilSeq === 0) return [];
    // An event without an id (`live-status`, a notice about the stream) is not a place in the log.
    const events = await connection.readUntil(
      (event) => event.id !== undefined && !isDelta(event) && idParts(event.id)[0] >= untilSeq,
    );
    return events.filter((event) => event.id !== undefined);
  } finally {
    connection.abort();
  }
}

/**
 * Checks that the stored thread is what `events` (a parley-format stream) said: the durable
 * events are the stored log's, gapless; every `message-end` / `run-end` / `run-error` message is
 * the stored message; each ended run's execution has the run's status, counts and error; and the
 * deltas of a run seen from its start add up to the stored content.
 */
export async function expectStoredMatchesStream(
  thread: ThreadRef,
  events: SseEvent[],
): Promise<{ messages: any[]; executions: Map<string, any> }> {
  const durable = events.filter((event) => event.id !== undefined && !isDelta(event));
  if (durable.length > 0) {
    const firstSeq = idParts(durable[0]!.id)[0];
    const lastSeq = idParts(durable.at(-1)!.id)[0];
    const log = (await replayLog(thread, lastSeq)).filter((event) => !isDelta(event));
    expect(
      log.map((event) => event.id),
      'the stored log is gapless from 1',
    ).toEqual(Array.from({ length: lastSeq }, (_, index) => String(index + 1)));
    expect(frames(log.slice(firstSeq - 1)), 'durable events of the stream = stored log').toEqual(frames(durable));
  }
  const messages = await storedMessages(thread);
  const byId = new Map(messages.map((message) => [message.id, message]));
  const executions = new Map<string, any>();
  for (const event of events) {
    if (event.event === 'message-start') {
      expect(byId.get(event.data.message_id)?.role, `message ${event.data.message_id} is stored`).toBe(event.data.role);
    }
    if (event.event === 'message-end') {
      expect(byId.get(event.data.message.id), 'message-end carries the stored message').toEqual(event.data.message);
    }
    if (event.event === 'run-end' || event.event === 'run-error') {
      const { run_id: runId, message } = event.data;
      expect(byId.get(message.id), `${event.event} carries the stored message`).toEqual(message);
      expect(message.metadata.status).toBe(event.data.status);
      const execution = await storedExecution(thread, runId);
      executions.set(runId, execution);
      expect(execution, 'the execution is what the stream said').toMatchObject({
        id: runId,
        status: event.data.status,
        tool_calls_count: message.tool_calls.length,
        tokens_used: message.metadata.usage.total_tokens,
        error_message: event.data.error?.message ?? null,
        completed_at: expect.any(String),
      });
      if (events.some((other) => other.event === 'run-start' && other.data.run_id === runId)) {
        const text = events
          .filter((other) => other.event === 'text-delta' && other.data.run_id === runId)
          .map((other) => other.data.delta)
          .join('');
        expect(text, 'the deltas add up to the stored content').toBe(message.content);
      }
    }
  }
  return { messages, executions };
}
