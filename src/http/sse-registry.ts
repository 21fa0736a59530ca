import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../errors.js';
import { principalOf } from './auth.js';
import { SseStream, type SseDialect, type SseStreamHost, type SseStreamOptions } from './sse.js';
import { StreamAdmission, tenantOf, type StreamLimits, type StreamTenant } from './stream-admission.js';

export interface SseRegistryOptions extends SseStreamOptions, StreamLimits {
  /** Unread bytes all streams of the process may hold; beyond it the largest are dropped. */
  maxBufferedBytes: number;
}

/**
 * A stream's place, taken before its request does any work: `open` starts the stream on it.
 * The slot is given back when the response is over — its `close`, which comes once whether a
 * stream was opened on it or an error was answered instead, or the client left first.
 */
export class StreamSlot implements SseStreamHost {
  #stream: SseStream | null = null;
  /** Set when the slot's key was revoked before its stream opened. */
  #ending: AppError | null = null;
  #connectionClosed = false;
  #released = false;

  constructor(
    private readonly registry: SseRegistry,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    readonly tenant: StreamTenant,
  ) {
    reply.raw.once('close', () => this.#onConnectionClosed());
  }

  /** Takes over the reply and starts the stream, with the given extra response headers. */
  open(input: { headers?: Record<string, string>; dialect?: SseDialect } = {}): SseStream {
    if (this.#stream !== null) throw new Error('a stream slot opens one stream');
    const stream = new SseStream({
      request: this.request,
      reply: this.reply,
      headers: input.headers,
      dialect: input.dialect,
      host: this,
      options: this.registry.streamOptions,
    });
    this.#stream = stream;
    this.registry.track(stream);
    // The client left while the request was being prepared: the stream is over before it began.
    if (this.#connectionClosed) stream.connectionClosed();
    else if (this.#ending) stream.fail(this.#ending);
    // Opened after shutdown began (its request was past the 503 check by then): told at once.
    else if (this.registry.closing) stream.shutdown();
    return stream;
  }

  /** Ends the stream with `error` in-band, now or as soon as it opens. */
  end(error: AppError): void {
    if (this.#stream) this.#stream.fail(error);
    else this.#ending = error;
  }

  #onConnectionClosed(): void {
    this.#connectionClosed = true;
    if (this.#stream) this.#stream.connectionClosed();
    else this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.registry.releaseSlot(this);
  }

  buffered(delta: number): void {
    this.registry.buffered(delta);
  }
  closed(stream: SseStream): void {
    this.registry.untrack(stream);
  }
  released(stream: SseStream): void {
    this.registry.forget(stream);
    this.#release();
  }
}

/**
 * The event streams of this process: admission per credential and organisation, the bytes their
 * clients have not read (capped per process), revocation by key, and shutdown.
 */
export class SseRegistry {
  readonly #admission: StreamAdmission<StreamSlot>;
  /** Streams still sending. */
  readonly #open = new Set<SseStream>();
  /** Streams whose response is not over: the open ones, and closed ones with bytes unread. */
  readonly #holding = new Set<SseStream>();
  #bufferedBytes = 0;
  #shedding = false;
  #closing = false;
  readonly streamOptions: SseStreamOptions;

  constructor(private readonly options: SseRegistryOptions) {
    this.#admission = new StreamAdmission(options);
    this.streamOptions = { keepAliveMs: options.keepAliveMs, maxBacklogBytes: options.maxBacklogBytes };
  }

  /**
   * Takes a slot for the caller's stream on `reply`, or throws 429 `too_many_streams`: call it
   * before anything else is done. The slot is given back when the response is over, however it
   * ends (see `StreamSlot`).
   */
  admit(request: FastifyRequest, reply: FastifyReply): StreamSlot {
    const tenant = tenantOf(principalOf(request));
    // Counted before the slot listens to its response: a refused request leaves nothing behind.
    this.#admission.check(tenant);
    const slot = new StreamSlot(this, request, reply, tenant);
    this.#admission.add(tenant, slot);
    return slot;
  }

  /** Ends every stream of the key with `error` in-band; returns how many there were. */
  endKey(keyId: string, error: AppError): number {
    const slots = this.#admission.slotsOfKey(keyId);
    for (const slot of slots) slot.end(error);
    return slots.length;
  }

  /** The API keys with a stream (or a slot) on this process. */
  keyIds(): string[] {
    return this.#admission.keyIds();
  }

  /** Streams still sending. */
  get size(): number {
    return this.#open.size;
  }

  /** Slots taken: streams whose response is not over, and requests about to open one. */
  get slotCount(): number {
    return this.#admission.size;
  }

  /** Unread bytes over every stream, as last reported (see `SseStream.unreadBytes`). */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Sends every stream its shutdown notice (a reconnect hint) and ends it. */
  closeAll(): void {
    for (const stream of [...this.#open]) stream.shutdown();
  }

  /** The process is stopping: `closeAll`, and every stream opened from now on gets the notice as it opens. */
  shutdown(): void {
    this.#closing = true;
    this.closeAll();
  }

  /** True once `shutdown` ran. */
  get closing(): boolean {
    return this.#closing;
  }

  // Called by the slots and their streams.
  track(stream: SseStream): void {
    this.#open.add(stream);
    this.#holding.add(stream);
  }
  untrack(stream: SseStream): void {
    this.#open.delete(stream);
  }
  forget(stream: SseStream): void {
    this.#open.delete(stream);
    this.#holding.delete(stream);
  }
  releaseSlot(slot: StreamSlot): void {
    this.#admission.release(slot.tenant, slot);
  }

  buffered(delta: number): void {
    this.#bufferedBytes += delta;
    if (this.#bufferedBytes > this.options.maxBufferedBytes && !this.#shedding) this.#shed();
  }

  /**
   * Over the process cap: re-reads every stream's unread bytes (reports lag partial drains), then
   * drops the largest backlogs until the total is under the cap again. Runs only past the cap.
   */
  #shed(): void {
    this.#shedding = true;
    try {
      let total = 0;
      const backlogged: SseStream[] = [];
      for (const stream of this.#holding) {
        const bytes = stream.resync();
        total += bytes;
        if (bytes > 0) backlogged.push(stream);
      }
      this.#bufferedBytes = total;
      backlogged.sort((left, right) => right.reportedBytes - left.reportedBytes);
      for (const stream of backlogged) {
        if (this.#bufferedBytes <= this.options.maxBufferedBytes) break;
        stream.disconnect('stream dropped: the streams of this process hold more than SSE_MAX_BUFFERED_BYTES unread');
      }
    } finally {
      this.#shedding = false;
    }
  }
}
