import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../errors.js';
import { principalOf } from './auth.js';
import { SseStream, type SseStreamHost, type SseStreamOptions } from './sse.js';
import { StreamAdmission, tenantOf, type StreamLimits, type StreamTenant } from './stream-admission.js';

export interface SseRegistryOptions extends SseStreamOptions, StreamLimits {
  /** Unread bytes all streams of the process may hold; beyond it the largest are dropped. */
  maxBufferedBytes: number;
}

/**
 * A stream's place, taken before its request does any work: `open` starts the stream on it.
 * A slot is given back when its stream's response is over, or by `SseRegistry.withSlot` when no
 * stream was opened.
 */
export class StreamSlot implements SseStreamHost {
  #stream: SseStream | null = null;
  /** Set when the slot's key was revoked before its stream opened. */
  #ending: AppError | null = null;
  #released = false;

  constructor(
    private readonly registry: SseRegistry,
    private readonly request: FastifyRequest,
    readonly tenant: StreamTenant,
  ) {}

  /** Takes over the reply and starts the stream, with the given extra response headers. */
  open(input: { reply: FastifyReply; headers?: Record<string, string> }): SseStream {
    if (this.#stream !== null || this.#released) throw new Error('a stream slot opens one stream');
    const stream = new SseStream({
      request: this.request,
      reply: input.reply,
      headers: input.headers,
      host: this,
      options: this.registry.streamOptions,
    });
    this.#stream = stream;
    this.registry.track(stream);
    if (this.#ending) stream.fail(this.#ending);
    return stream;
  }

  get opened(): boolean {
    return this.#stream !== null;
  }

  /** Ends the stream with `error` in-band, now or as soon as it opens. */
  end(error: AppError): void {
    if (this.#stream) this.#stream.fail(error);
    else this.#ending = error;
  }

  release(): void {
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
    this.release();
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
  readonly streamOptions: SseStreamOptions;

  constructor(private readonly options: SseRegistryOptions) {
    this.#admission = new StreamAdmission(options);
    this.streamOptions = { keepAliveMs: options.keepAliveMs, maxBacklogBytes: options.maxBacklogBytes };
  }

  /**
   * Takes a slot for the caller — or throws 429 `too_many_streams` before anything else is done —
   * runs `body` with it, and gives the slot back if `body` opened no stream on it.
   */
  async withSlot<T>(request: FastifyRequest, body: (slot: StreamSlot) => Promise<T>): Promise<T> {
    const slot = new StreamSlot(this, request, tenantOf(principalOf(request)));
    this.#admission.admit(slot.tenant, slot);
    try {
      return await body(slot);
    } finally {
      if (!slot.opened) slot.release();
    }
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

  /** Sends `event: shutdown` with a reconnect hint to every stream and ends it. */
  closeAll(): void {
    for (const stream of [...this.#open]) {
      stream.send({ event: 'shutdown', retry: 1000, data: '{}' });
      stream.close();
    }
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
