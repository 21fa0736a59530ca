import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/**
 * Server-sent events, in one place: headers, framing, keep-alive, disconnect and shutdown.
 * Framing follows the WHATWG rules: `id` and `event` may not contain CR or LF (refused), `data`
 * is split into one `data:` line per line. A stream closes in `finally` whatever happens.
 */
export interface SseMessage {
  id?: string;
  event?: string;
  /** Reconnection delay hint for the client, in milliseconds. */
  retry?: number;
  data: string;
}

export class SseStream {
  readonly #reply: FastifyReply;
  readonly #controller = new AbortController();
  readonly #keepAlive: NodeJS.Timeout;
  readonly #registry: SseRegistry;
  #closed = false;

  constructor(input: {
    request: FastifyRequest;
    reply: FastifyReply;
    keepAliveMs: number;
    registry: SseRegistry;
    headers?: Record<string, string>;
  }) {
    this.#reply = input.reply;
    this.#registry = input.registry;
    input.reply.hijack();
    const raw = input.reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      'x-request-id': input.request.id,
      ...input.headers,
    });
    raw.flushHeaders();
    // A disconnected client stops the stream, never the work behind it.
    raw.on('close', () => this.close());
    this.#keepAlive = setInterval(() => this.comment('keep-alive'), input.keepAliveMs);
    this.#keepAlive.unref();
    this.#registry.add(this);
  }

  /** Fires when the client goes away or the stream is closed. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(message: SseMessage): void {
    if (this.#closed) return;
    this.#reply.raw.write(frame(message));
  }

  sendAll(messages: readonly SseMessage[]): void {
    for (const message of messages) this.send(message);
  }

  comment(text: string): void {
    if (this.#closed) return;
    this.#reply.raw.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#registry.delete(this);
    this.#controller.abort();
    if (!this.#reply.raw.writableEnded) this.#reply.raw.end();
  }
}

export function frame(message: SseMessage): string {
  let text = '';
  if (message.id !== undefined) text += `id: ${singleLine('id', message.id)}\n`;
  if (message.event !== undefined) text += `event: ${singleLine('event', message.event)}\n`;
  if (message.retry !== undefined) text += `retry: ${Math.max(0, Math.floor(message.retry))}\n`;
  for (const line of message.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

function singleLine(field: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`SSE ${field} may not contain a line break`);
  return value;
}

/** The open streams of this process, so shutdown can end each one cleanly. */
export class SseRegistry {
  readonly #streams = new Set<SseStream>();

  constructor(private readonly options: { keepAliveMs: number }) {}

  /** Takes over the reply and starts a stream on it, with the given extra response headers. */
  open(input: { request: FastifyRequest; reply: FastifyReply; headers?: Record<string, string> }): SseStream {
    return new SseStream({ ...input, keepAliveMs: this.options.keepAliveMs, registry: this });
  }

  add(stream: SseStream): void {
    this.#streams.add(stream);
  }
  delete(stream: SseStream): void {
    this.#streams.delete(stream);
  }
  get size(): number {
    return this.#streams.size;
  }

  /** Sends `event: shutdown` with a reconnect hint to every stream and ends it. */
  closeAll(): void {
    for (const stream of [...this.#streams]) {
      stream.send({ event: 'shutdown', retry: 1000, data: '{}' });
      stream.close();
    }
  }
}

/**
 * Writes events to the stream, each as the messages `toMessages` makes of it, until `until` says
 * the last one went out, the events end or the client leaves; then closes the stream. The headers
 * are sent by then, so an error becomes an in-band `error` event carrying the error code.
 */
export async function pumpEvents<Event>(input: {
  stream: SseStream;
  events: AsyncIterable<Event>;
  toMessages: (event: Event) => readonly SseMessage[];
  until: (event: Event) => boolean;
  log: FastifyBaseLogger;
}): Promise<void> {
  const { stream } = input;
  const events = input.events[Symbol.asyncIterator]();
  try {
    for (let next = await events.next(); !next.done; next = await events.next()) {
      stream.sendAll(input.toMessages(next.value));
      if (input.until(next.value)) break;
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
    // Ends the source (a live subscription) whichever way the loop stopped.
    await events.return?.(undefined);
    stream.close();
  }
}
