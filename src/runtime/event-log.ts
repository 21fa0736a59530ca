import type { JsonObject, ThreadEvent } from '../domain/models.js';
import type { Store } from '../storage/store.js';
import { compareEventIds, type EventId } from './event-id.js';
import type { LiveBus, LiveEvent } from './live-bus.js';

/** Deltas are replayable for this many durable events after the one they follow. */
const DELTA_WINDOW_SEQS = 64;
const MAX_DELTAS_PER_THREAD = 20_000;
const MAX_THREADS = 10_000;
const REPLAY_PAGE = 500;

interface ThreadState {
  lastSeq: number;
  deltaCount: number;
  deltas: LiveEvent[];
}

/**
 * One ordered event log per thread. Durable events are stored (by the write unit that makes
 * them) and published after their commit; text deltas are published at once and kept in a
 * bounded replay buffer, so a follower that reconnects with `Last-Event-ID` gets every later
 * event exactly once — deltas included, while they are in the buffer. The full text is always
 * in the stored message of the `message-end` event.
 */
export class ThreadEventLog {
  readonly #threads = new Map<string, ThreadState>();

  constructor(private readonly dependencies: { store: Store; bus: LiveBus }) {}

  /** Publishes durable events once the transaction that stored them has committed. */
  published(threadId: string, events: ThreadEvent[]): void {
    const state = this.#state(threadId);
    for (const event of events) {
      if (event.seq > state.lastSeq) {
        state.lastSeq = event.seq;
        state.deltaCount = 0;
      }
      this.dependencies.bus.publish(threadId, { id: { seq: event.seq, delta: 0 }, type: event.type, data: event.data });
    }
    const oldest = state.lastSeq - DELTA_WINDOW_SEQS;
    if (state.deltas.length > 0 && state.deltas[0]!.id.seq < oldest) {
      state.deltas = state.deltas.filter((delta) => delta.id.seq >= oldest);
    }
  }

  /** Publishes a text delta; it follows the latest durable event of the thread. */
  delta(threadId: string, type: string, data: JsonObject): LiveEvent {
    const state = this.#state(threadId);
    state.deltaCount += 1;
    const event: LiveEvent = { id: { seq: state.lastSeq, delta: state.deltaCount }, type, data };
    state.deltas.push(event);
    if (state.deltas.length > MAX_DELTAS_PER_THREAD)
      state.deltas.splice(0, state.deltas.length - MAX_DELTAS_PER_THREAD);
    this.dependencies.bus.publish(threadId, event);
    return event;
  }

  /**
   * Every event after `after`, stored ones from the database and deltas from the buffer, then
   * live ones as they come, each exactly once and in order, until `signal` aborts.
   */
  async *follow(input: {
    organizationId: string;
    threadId: string;
    after: EventId;
    signal: AbortSignal;
  }): AsyncGenerator<LiveEvent> {
    const { threadId, signal } = input;
    const queue: LiveEvent[] = [];
    let wake: (() => void) | null = null;
    // Subscribe first, then read the store: an event is then either stored, queued, or both.
    const unsubscribe = this.dependencies.bus.subscribe(threadId, (event) => {
      queue.push(event);
      wake?.();
    });
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      let last = input.after;
      for (const delta of this.#bufferedDeltas(threadId, input.after)) {
        yield delta;
        last = delta.id;
      }
      let cursor = input.after.seq;
      for (;;) {
        const page = await this.dependencies.store.events.listAfter({
          organizationId: input.organizationId,
          threadId,
          afterSeq: cursor,
          limit: REPLAY_PAGE,
        });
        for (const event of page) {
          cursor = event.seq;
          const live: LiveEvent = { id: { seq: event.seq, delta: 0 }, type: event.type, data: event.data };
          if (compareEventIds(live.id, last) > 0) {
            yield live;
            last = live.id;
          }
          for (const delta of this.#bufferedDeltas(threadId, { seq: event.seq, delta: 0 })) {
            if (compareEventIds(delta.id, last) > 0) {
              yield delta;
              last = delta.id;
            }
          }
        }
        if (page.length < REPLAY_PAGE || signal.aborted) break;
      }
      while (!signal.aborted) {
        const event = queue.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        if (compareEventIds(event.id, last) > 0) {
          yield event;
          last = event.id;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      unsubscribe();
    }
  }

  /** The newest durable sequence number this process knows for the thread (0 when none). */
  knownLastSeq(threadId: string): number {
    return this.#threads.get(threadId)?.lastSeq ?? 0;
  }

  forget(threadId: string): void {
    this.#threads.delete(threadId);
  }

  #bufferedDeltas(threadId: string, after: EventId): LiveEvent[] {
    const state = this.#threads.get(threadId);
    if (!state) return [];
    return state.deltas.filter((delta) => delta.id.seq === after.seq && delta.id.delta > after.delta);
  }

  #state(threadId: string): ThreadState {
    let state = this.#threads.get(threadId);
    if (state) {
      // Map order is insertion order: re-inserting keeps the most recently used thread last.
      this.#threads.delete(threadId);
      this.#threads.set(threadId, state);
      return state;
    }
    if (this.#threads.size >= MAX_THREADS) {
      const oldest = this.#threads.keys().next().value;
      if (oldest !== undefined) this.#threads.delete(oldest);
    }
    state = { lastSeq: 0, deltaCount: 0, deltas: [] };
    this.#threads.set(threadId, state);
    return state;
  }
}
