import { AppError } from '../errors.js';
import type { NewThreadEvent, RunEndEvent, TextDelta, ThreadEvent } from '../domain/thread-events.js';
import type { Store, StoreWriters, WriteOptions } from '../storage/store.js';
import type { DeltaBuffer } from './delta-buffer.js';
import { compareEventIds, type EventId } from './event-id.js';
import type { LiveBus, LiveEvent } from './live-bus.js';

const REPLAY_PAGE = 500;
/**
 * Live events one follower may have waiting while its replay is held back by its client. Events
 * are shared by every follower of a thread: a queued one costs a reference (8 bytes) and keeps it
 * alive. 10,000 is a long reply's worth of deltas.
 */
const MAX_QUEUED_EVENTS = 10_000;

export interface FollowInput {
  organizationId: string;
  threadId: string;
  after: EventId;
  signal: AbortSignal;
  /** Paces the replay (see `follow`); a stream is one, without a closure per follower. */
  consumer?: FollowConsumer | undefined;
}

/** Who reads the events: null while it takes more, else a promise that settles when it does. */
export interface FollowConsumer {
  whenWritable(): Promise<void> | null;
}

/** The live events a follower has been handed by the bus and not yet taken, bounded. */
class FollowerQueue {
  readonly #events: LiveEvent[] = [];
  #wake: (() => void) | null = null;
  /** Past `MAX_QUEUED_EVENTS`: the queue is emptied and takes nothing more. */
  overflowed = false;

  push(event: LiveEvent): void {
    if (this.overflowed) return;
    this.#events.push(event);
    if (this.#events.length > MAX_QUEUED_EVENTS) {
      this.overflowed = true;
      this.#events.length = 0;
    }
    this.wake();
  }

  shift(): LiveEvent | undefined {
    return this.#events.shift();
  }

  /** Settles at the next push or `wake`. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** A write unit that may append to thread logs: what `ThreadEventLog.write` hands its unit. */
export interface EventUnit {
  writers: StoreWriters;
  /**
   * Appends durable events to the thread's log inside this unit; they are published once the unit
   * has committed, and never if it rolls back. Null when the thread is not in the organisation.
   */
  append(input: {
    organizationId: string;
    threadId: string;
    now: string;
    events: readonly NewThreadEvent[];
  }): Promise<ThreadEvent[] | null>;
}

/**
 * One ordered event log per thread. Durable events are stored by the unit that causes them and
 * published after its commit — `write` is the one path that does both. Text deltas are published
 * at once and kept in a bounded replay buffer (a port: memory here, Redis when scaled out), so a
 * follower that reconnects with `Last-Event-ID` gets every later event exactly once — deltas
 * included, while they are in the buffer. The full text is always in the stored message of the
 * `message-end` event.
 */
export class ThreadEventLog {
  constructor(private readonly dependencies: { store: Store; bus: LiveBus; deltas: DeltaBuffer }) {}

  /** Runs `unit` in one transaction (see `Store.write`), then publishes what it appended. */
  async write<T>(unit: (unit: EventUnit) => Promise<T>, options?: WriteOptions<T>): Promise<T> {
    let appended: { threadId: string; events: ThreadEvent[] }[] = [];
    const result = await this.dependencies.store.write(async (writers) => {
      // Group commit may run a unit again (a batch that failed is re-run unit by unit).
      appended = [];
      return unit({
        writers,
        append: async (input) => {
          const events = await writers.events.append(input);
          if (events) appended.push({ threadId: input.threadId, events });
          return events;
        },
      });
    }, options);
    for (const { threadId, events } of appended) this.#publish(threadId, events);
    return result;
  }

  /** Publishes a text delta; it follows the latest durable event of the thread. */
  delta(threadId: string, delta: TextDelta['data']): void {
    this.dependencies.bus.publish(
      threadId,
      this.dependencies.deltas.record(threadId, { type: 'text-delta', data: delta }),
    );
  }

  /**
   * Tells followers a run ended when nothing could be stored (its thread was deleted under it),
   * so no stream waits forever.
   */
  announce(threadId: string, event: RunEndEvent): void {
    this.dependencies.bus.publish(threadId, this.dependencies.deltas.record(threadId, event));
  }

  /**
   * Every event after `after`, stored ones from the database and deltas from the buffer, then
   * live ones as they come, each exactly once and in order, until `signal` aborts. `consumer`
   * paces the replay of stored events: its `whenWritable` returns null while it takes more, or a
   * promise that settles when it does. Live events wait in a queue meanwhile; a consumer held back
   * so long that more than `MAX_QUEUED_EVENTS` pile up there ends with `slow_consumer` (it can
   * resume).
   */
  async *follow(input: FollowInput): AsyncGenerator<LiveEvent> {
    const queue = new FollowerQueue();
    // Subscribe first, then read the store: an event is then either stored, queued, or both.
    const unsubscribe = this.dependencies.bus.subscribe(input.threadId, (event) => queue.push(event));
    const onAbort = () => queue.wake();
    input.signal.addEventListener('abort', onAbort);
    try {
      let last = input.after;
      for await (const event of this.#replay(input, queue)) {
        yield event;
        last = event.id;
      }
      while (!input.signal.aborted) {
        if (queue.overflowed) throw new AppError('slow_consumer');
        const event = queue.shift();
        if (event === undefined) {
          await queue.next();
        } else if (compareEventIds(event.id, last) > 0) {
          yield event;
          last = event.id;
        }
      }
    } finally {
      input.signal.removeEventListener('abort', onAbort);
      unsubscribe();
    }
  }

  /**
   * Stored events after `after`, page by page, with the buffered deltas between them. The buffer
   * is read after each page, and only its deltas that follow a durable event this replay has
   * seen are taken: a delta is in the buffer before the next durable event commits, and a delta
   * of a durable event committed after the page was read comes (with that event) from the live
   * queue — taking it here would skip the event.
   */
  async *#replay(input: FollowInput, queue: FollowerQueue): AsyncGenerator<LiveEvent> {
    const { store, deltas } = this.dependencies;
    let last = input.after;
    for (;;) {
      const page = await store.events.listAfter({
        organizationId: input.organizationId,
        threadId: input.threadId,
        afterSeq: last.seq,
        limit: REPLAY_PAGE,
      });
      const complete = page.length < REPLAY_PAGE;
      const lastSeen = page.at(-1)?.seq ?? last.seq;
      const buffered = (await deltas.after(input.threadId, last)).filter((delta) => delta.id.seq <= lastSeen);
      const stored: LiveEvent[] = page.map(({ seq, created_at: _createdAt, ...event }) => ({
        ...event,
        id: { seq, delta: 0 },
      }));
      for (const event of [...stored, ...buffered].sort((left, right) => compareEventIds(left.id, right.id))) {
        if (compareEventIds(event.id, last) <= 0) continue;
        // Only a held-back consumer costs a promise here.
        const held = input.consumer?.whenWritable() ?? null;
        if (held !== null || queue.overflowed) await this.#paced(input, queue, held);
        if (input.signal.aborted) return;
        yield event;
        last = event.id;
      }
      if (complete || input.signal.aborted) return;
    }
  }

  /** Waits while the consumer asks to (see `follow`); wakes for each live event to check the queue. */
  async #paced(input: FollowInput, queue: FollowerQueue, first: Promise<void> | null): Promise<void> {
    for (let held = first; held && !input.signal.aborted; held = input.consumer?.whenWritable() ?? null) {
      if (queue.overflowed) throw new AppError('slow_consumer');
      await Promise.race([held, queue.next()]);
    }
    if (queue.overflowed) throw new AppError('slow_consumer');
  }

  #publish(threadId: string, events: ThreadEvent[]): void {
    for (const { seq, created_at: _createdAt, ...event } of events) {
      this.dependencies.deltas.advance(threadId, seq);
      this.dependencies.bus.publish(threadId, { ...event, id: { seq, delta: 0 } });
    }
  }
}
