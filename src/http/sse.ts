import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { corsHeadersOf } from './cors.js';

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

/** What a stream tells the registry that opened it. */
export interface SseStreamHost {
  /** The bytes the stream's client has not read changed by `delta` (see `SseStream.unreadBytes`). */
  buffered(delta: number): void;
  /** The stream was closed: it sends nothing more, though its last bytes may still be unread. */
  closed(stream: SseStream): void;
  /** The stream's response is over (all read, or the connection gone). Called once, last. */
  released(stream: SseStream): void;
}

/**
 * How a stream says what the stream itself, not the log, has to say: that it failed after it
 * started, or that the server is stopping. Each format says it in frames its clients understand.
 */
export interface SseDialect {
  failure(error: AppError): readonly SseMessage[];
  readonly shutdown: readonly SseMessage[];
}

/**
 * The default: an in-band `stream-error` event, `{type, code, detail}` (docs/streaming.md). Not
 * `error`: a native EventSource fires its own `error` for a lost connection, and a listener for
 * one would get both.
 */
export const PARLEY_DIALECT: SseDialect = {
  failure: (error) => [
    { event: 'stream-error', data: JSON.stringify({ type: 'stream-error', code: error.code, detail: error.message }) },
  ],
  shutdown: [{ event: 'shutdown', retry: 1000, data: '{"type":"shutdown"}' }],
};

export interface SseStreamOptions {
  keepAliveMs: number;
  /** A stream whose client has more bytes than this unread is ended with `slow_consumer`. */
  maxBacklogBytes: number;
}

export class SseStream {
  readonly #request: FastifyRequest;
  readonly #raw: ServerResponse;
  readonly #controller = new AbortController();
  readonly #keepAlive: NodeJS.Timeout;
  readonly #host: SseStreamHost;
  readonly #options: SseStreamOptions;
  readonly #dialect: SseDialect;
  #closed = false;
  #released = false;
  /** The unread bytes as last told to the host. */
  #reported = 0;
  /** Bytes the latest write added to the socket's buffer. */
  #lastWrite = 0;
  #flushDeadline: NodeJS.Timeout | undefined;
  #writable: { promise: Promise<void>; resolve: () => void } | null = null;
  #awaitingDrain = false;

  constructor(input: {
    request: FastifyRequest;
    reply: FastifyReply;
    host: SseStreamHost;
    options: SseStreamOptions;
    headers?: Record<string, string> | undefined;
    dialect?: SseDialect | undefined;
  }) {
    this.#request = input.request;
    this.#dialect = input.dialect ?? PARLEY_DIALECT;
    this.#raw = input.reply.raw;
    this.#host = input.host;
    this.#options = input.options;
    input.reply.hijack();
    const raw = this.#raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      'x-request-id': input.request.id,
      ...corsHeadersOf(input.reply),
      ...input.headers,
    });
    raw.flushHeaders();
    // A first comment at once: a buffering proxy passes the response on only when body bytes
    // come, and a follower of an idle thread would otherwise see nothing until the first event.
    raw.write(': stream open\n\n');
    this.#keepAlive = setInterval(() => this.comment('keep-alive'), input.options.keepAliveMs);
    this.#keepAlive.unref();
  }

  /** Fires when the client goes away or the stream is closed. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The bytes written that the client has not read, as far as this process can see: Node's
   * buffer for the socket (the kernel's socket buffers hold more, a few MiB on loopback). Counted
   * while the socket asks to be drained (past its 16 KiB high-water mark) or after the end.
   */
  get unreadBytes(): number {
    const raw = this.#raw;
    return this.#released || !(raw.writableNeedDrain || raw.writableEnded) ? 0 : raw.writableLength;
  }

  send(message: SseMessage): void {
    if (!this.#closed) this.#write(frame(message));
  }

  sendAll(messages: readonly SseMessage[]): void {
    for (const message of messages) this.send(message);
  }

  /**
   * A comment line (`: text`). Skipped while the socket is still draining: bytes are on their way,
   * which is all a keep-alive is for, and a comment must not end a stream that is busy with a big
   * event.
   */
  comment(text: string): void {
    if (!this.#closed && !this.#raw.writableNeedDrain) this.#write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  }

  /** Ends the stream with its dialect's in-band failure (written past the backlog check). */
  fail(error: AppError): void {
    if (this.#closed) return;
    for (const message of this.#dialect.failure(error)) this.#raw.write(frame(message));
    this.close();
  }

  /** Ends the stream with its dialect's shutdown notice (the server is stopping; reconnect). */
  shutdown(): void {
    this.sendAll(this.#dialect.shutdown);
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#controller.abort();
    this.#writable?.resolve();
    if (!this.#raw.writableEnded) this.#raw.end();
    this.#host.closed(this);
    if (this.#released) return;
    this.#report();
    // What was sent gets one keep-alive interval to be read; a client that reads nothing by then
    // is disconnected, so an ended stream cannot hold its unread bytes for ever.
    this.#flushDeadline = setTimeout(() => this.#raw.destroy(), this.#options.keepAliveMs);
    this.#flushDeadline.unref();
  }

  /** Drops the connection at once, with its unread bytes (the process needs the memory). */
  disconnect(reason: string): void {
    if (this.#released) return;
    this.#request.log.warn({ unreadBytes: this.#reported }, reason);
    this.#raw.destroy();
    this.connectionClosed();
  }

  /**
   * The response is over: all sent and read, or the connection gone (its host listens for the
   * response's `close`, which may come before the stream opens). A disconnected client stops the
   * stream, never the work behind it.
   */
  connectionClosed(): void {
    if (this.#released) return;
    this.#released = true;
    this.close();
    clearTimeout(this.#flushDeadline);
    if (this.#reported !== 0) this.#host.buffered(-this.#reported);
    this.#reported = 0;
    this.#host.released(this);
  }

  /**
   * Null while the client keeps up; otherwise a promise that settles once the socket has drained
   * or the stream has closed. A replay waits on it, so its pace is the client's.
   */
  whenWritable(): Promise<void> | null {
    if (this.#closed || !this.#raw.writableNeedDrain) return null;
    if (!this.#awaitingDrain) this.#listenForDrain();
    if (this.#writable === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((settle) => (resolve = settle));
      this.#writable = { promise, resolve };
    }
    return this.#writable.promise;
  }

  /** Reads the unread bytes again (a socket drains without telling until it is empty). */
  resync(): number {
    this.#reported = this.unreadBytes;
    return this.#reported;
  }

  /** Unread bytes as last reported; `resync` refreshes it. */
  get reportedBytes(): number {
    return this.#reported;
  }

  /**
   * The backlog is checked before each write, leaving out the bytes of the write before it: one
   * event of any size (a long reply's `message-end`, then `run-end`) reaches a client that reads,
   * while a client that is more than the limit behind is ended.
   */
  #write(text: string): void {
    const raw = this.#raw;
    const before = raw.writableLength;
    if (before - this.#lastWrite > this.#options.maxBacklogBytes) {
      this.#request.log.info(
        { unreadBytes: before },
        'stream ended: its client left more than SSE_MAX_BACKLOG_BYTES unread',
      );
      return this.fail(new AppError('slow_consumer'));
    }
    raw.write(text);
    // The chunked response corks the socket until the next tick, so this is the write's size.
    const after = raw.writableLength;
    this.#lastWrite = after - before;
    // What a client that keeps up leaves is not counted (see `unreadBytes`): nothing to report.
    if (raw.writableNeedDrain) {
      if (!this.#awaitingDrain) this.#listenForDrain();
      this.#reportBytes(after);
    } else if (this.#reported !== 0) this.#reportBytes(0);
  }

  /** Tells the host what changed since the last report. */
  #report(): void {
    this.#reportBytes(this.unreadBytes);
  }

  #reportBytes(bytes: number): void {
    if (bytes === this.#reported) return;
    const delta = bytes - this.#reported;
    this.#reported = bytes;
    this.#host.buffered(delta);
  }

  #listenForDrain(): void {
    this.#awaitingDrain = true;
    this.#raw.once('drain', () => this.#drained());
  }

  #drained(): void {
    this.#awaitingDrain = false;
    this.#report();
    const writable = this.#writable;
    this.#writable = null;
    writable?.resolve();
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
