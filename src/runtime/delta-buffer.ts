import type { ThreadEventOf, ThreadEventType } from '../domain/thread-events.js';
import type { EventId } from './event-id.js';
import type { LiveBus, LiveEvent } from './live-bus.js';

/**
 * Where text deltas wait for followers that reconnect. Deltas are never stored: a delta's id is
 * `<seq>.<n>`, the n-th delta after durable event `seq` (event-id.ts). In one process this is
 * memory; scaled out it is a Redis stream per thread. The buffer both numbers and publishes, so
 * the order followers receive events in is the order of their ids, whichever process wrote them
 * (a durable event committed by another process while this one streams a reply is followed by
 * this process's next delta). `publishTransient` runs once per token: it must stay cheap and
 * must not wait.
 */
export interface DeltaBuffer {
  /** A durable event of the thread has committed: publishes it on `bus`; later deltas follow it. */
  publishDurable(bus: LiveBus, threadId: string, event: LiveEvent): void;
  /** Publishes `event` on `bus` with the next id after the thread's latest durable event, and keeps it for replay. */
  publishTransient(bus: LiveBus, threadId: string, event: TransientEvent): void;
  /** The kept deltas with an id after `after`, oldest first. */
  after(threadId: string, after: EventId): Promise<LiveEvent[]>;
}

/**
 * What is published without being stored: text deltas, and the end of a run whose thread was
 * deleted under it (so its followers still hear that it ended).
 */
export type TransientEvent = ThreadEventOf<ThreadEventType>;

/** Deltas are replayable for this many durable events after the one they follow. */
const DELTA_WINDOW_SEQS = 64;
const MAX_DELTAS_PER_THREAD = 20_000;
/**
 * Past the cap the oldest deltas leave in batches of this many, so a delta costs O(1) amortized:
 * dropping one per delta moved 20,000 entries each time (about 56 µs; a reply of 160,000 deltas
 * took 7.8 s of CPU to buffer). A thread keeps at most the cap plus one batch.
 */
const DROP_BATCH = 2_000;
const MAX_THREADS = 10_000;

interface ThreadDeltas {
  lastSeq: number;
  deltaCount: number;
  deltas: LiveEvent[];
}

/**
 * The in-process buffer, bounded three ways: a window of durable events per thread, a count per
 * thread, and a count of threads (least recently used first out).
 */
export class MemoryDeltaBuffer implements DeltaBuffer {
  readonly #threads = new Map<string, ThreadDeltas>();

  publishDurable(bus: LiveBus, threadId: string, event: LiveEvent): void {
    this.advance(threadId, event.id.seq);
    bus.publish(threadId, event);
  }

  publishTransient(bus: LiveBus, threadId: string, event: TransientEvent): void {
    bus.publish(threadId, this.record(threadId, event));
  }

  /** A durable event of the thread has committed: later deltas follow it. */
  advance(threadId: string, seq: number): void {
    const state = this.#state(threadId);
    if (seq > state.lastSeq) {
      state.lastSeq = seq;
      state.deltaCount = 0;
    }
    const oldest = state.lastSeq - DELTA_WINDOW_SEQS;
    if (state.deltas.length > 0 && state.deltas[0]!.id.seq < oldest) {
      state.deltas = state.deltas.filter((delta) => delta.id.seq >= oldest);
    }
  }

  /** Gives the delta the next id after the thread's latest durable event and keeps it for replay. */
  record(threadId: string, transient: TransientEvent): LiveEvent {
    const state = this.#state(threadId);
    state.deltaCount += 1;
    // A literal, not `{ ...transient, id }`: on Node 20 that spread gave every kept delta hidden
    // classes of its own (2 maps per delta), which doubled the heap a finished reply keeps here
    // (6.8 → 14.2 KB, bench:streaming concurrent-streams). The cast restores the union's pairing.
    const id = { seq: state.lastSeq, delta: state.deltaCount };
    const event = { id, type: transient.type, data: transient.data } as LiveEvent;
    state.deltas.push(event);
    if (state.deltas.length > MAX_DELTAS_PER_THREAD + DROP_BATCH)
      state.deltas.splice(0, state.deltas.length - MAX_DELTAS_PER_THREAD);
    return event;
  }

  async after(threadId: string, after: EventId): Promise<LiveEvent[]> {
    const deltas = this.#threads.get(threadId)?.deltas ?? [];
    return deltas.filter(
      (delta) => delta.id.seq > after.seq || (delta.id.seq === after.seq && delta.id.delta > after.delta),
    );
  }

  #state(threadId: string): ThreadDeltas {
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
