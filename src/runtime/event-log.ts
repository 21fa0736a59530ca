import { AppError } from '../errors.js';
import type { NewThreadEvent, RunEndEvent, TextDelta, ThreadEvent } from '../domain/thread-events.js';
import type { Store, StoreWriters, WriteOptions } from '../storage/store.js';
import type { DeltaBuffer } from './delta-buffer.js';
import { compareEventIds, type EventId } from './event-id.js';
import { FollowerQueue } from './follower-queue.js';
import type { LiveBus, LiveEvent } from './live-bus.js';

const REPLAY_PAGE = 500;
/** While the bus is not live (Redis unreachable), followers read the store this often by default. */
const DEGRADED_POLL_MS = 1000;
/**
 * While a run is open on a live follower and no event came for this long, the store is read once
 * more: a publish lost between processes (a command that timed out under load) would otherwise
 * leave the follower waiting for an end that is already stored. Idle threads are not polled.
 */
const OPEN_RUN_CHECK_MS = 2000;

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
  constructor(
    private readonly dependencies: {
      store: Store;
      bus: LiveBus;
      deltas: DeltaBuffer;
      /** While the bus is not live, how often followers read the store; DEGRADED_POLL_MS when absent. */
      degradedPollMs?: number;
    },
  ) {}

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
    this.dependencies.deltas.publishTransient(this.dependencies.bus, threadId, { type: 'text-delta', data: delta });
  }

  /**
   * Tells followers a run ended when nothing could be stored (its thread was deleted under it),
   * so no stream waits forever.
   */
  announce(threadId: string, event: RunEndEvent): void {
    this.dependencies.deltas.publishTransient(this.dependencies.bus, threadId, event);
  }

  /**
   * Every event after `after`, stored ones from the database and deltas from the buffer, then
   * live ones as they come, each exactly once and in order, until `signal` aborts. `consumer`
   * paces the replay of stored events: its `whenWritable` returns null while it takes more, or a
   * promise that settles when it does. Live events wait in a queue meanwhile; a consumer held back
   * so long that more than `MAX_QUEUED_EVENTS` (follower-queue.ts) pile up there ends with `slow_consumer` (it can
   * resume).
   */
  async *follow(input: FollowInput): AsyncGenerator<LiveEvent> {
    const { bus } = this.dependencies;
    const queue = new FollowerQueue();
    // Subscribe first, then read the store: an event is then either stored, queued, or both.
    const unsubscribe = bus.subscribe(input.threadId, (event) => queue.push(event));
    // Each change of the bus's state (Redis lost or back) counts, however quickly it flips back.
    let changes = 0;
    const unwatch = bus.watch(() => {
      changes += 1;
      queue.wake();
    });
    const onAbort = () => queue.wake();
    input.signal.addEventListener('abort', onAbort);
    try {
      let seen = changes;
      let live = await this.#subscribed(input.threadId);
      let last = input.after;
      const run = { open: false };
      if (!live) yield liveStatus('degraded', last);
      while (!input.signal.aborted) {
        for await (const event of this.#replay({ ...input, after: last }, queue)) {
          yield event;
          last = event.id;
          run.open = opensRun(event, run.open);
        }
        if (live) {
          for await (const event of this.#drain(input, queue, last, () => changes !== seen, run)) {
            yield event;
            last = event.id;
            run.open = opensRun(event, run.open);
          }
        } else await this.#poll(queue);
        if (changes === seen || input.signal.aborted) continue;
        // The bus went away or came back: from here the replay reads what the live path missed.
        seen = changes;
        const now = await this.#subscribed(input.threadId);
        if (now !== live) yield liveStatus(now ? 'live' : 'degraded', last);
        live = now;
      }
    } finally {
      input.signal.removeEventListener('abort', onAbort);
      unwatch();
      unsubscribe();
    }
  }

  /**
   * The queued live events after `last`, as they come, until `changed` or the follower leaves —
   * or, while a run is open, until none came for `OPEN_RUN_CHECK_MS` (the caller reads the store).
   */
  async *#drain(
    input: FollowInput,
    queue: FollowerQueue,
    after: EventId,
    changed: () => boolean,
    run: { open: boolean },
  ) {
    let last = after;
    while (!input.signal.aborted && !changed()) {
      if (queue.overflowed) throw new AppError('slow_consumer');
      const event = queue.shift();
      if (event === undefined) {
        if (!run.open) await queue.next();
        else if (!(await arrivesWithin(queue, OPEN_RUN_CHECK_MS))) return;
      } else if (missesDurable(event.id, last)) {
        // A durable event between the two did not come live (two processes' publishes reached
        // Redis out of order, or one was lost): the caller reads it, and what follows, from the store.
        return;
      } else if (compareEventIds(event.id, last) > 0) {
        yield event;
        last = event.id;
      }
    }
  }

  /** Waits for the thread's subscription to carry events; whether the bus is live. */
  async #subscribed(threadId: string): Promise<boolean> {
    const { bus } = this.dependencies;
    const ready = bus.subscribed(threadId);
    if (ready !== null) await ready;
    return bus.live;
  }

  /** While the bus is not live: the next read of the store is after this wait (or a change). */
  async #poll(queue: FollowerQueue): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const pollMs = this.dependencies.degradedPollMs ?? DEGRADED_POLL_MS;
    await Promise.race([queue.next(), new Promise((resolve) => (timer = setTimeout(resolve, pollMs)))]);
    clearTimeout(timer);
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
    const { bus, deltas } = this.dependencies;
    for (const { seq, created_at: _createdAt, ...event } of events)
      deltas.publishDurable(bus, threadId, { ...event, id: { seq, delta: 0 } });
  }
}

/** A stream's notice that live events stopped or came back; at the position it was sent (not stored). */
/** Whether a run is open after `event` (a run's start or text opens it, its end closes it). */
function opensRun(event: LiveEvent, open: boolean): boolean {
  if (event.type === 'run-start' || event.type === 'text-delta') return true;
  if (event.type === 'run-end' || event.type === 'run-error') return false;
  return open;
}

/** Whether a live event with id `next` comes after a durable event the follower has not seen (it is at `last`). */
function missesDurable(next: EventId, last: EventId): boolean {
  return next.seq > last.seq && !(next.delta === 0 && next.seq === last.seq + 1);
}

/** True when the queue is woken within `ms`. */
async function arrivesWithin(queue: FollowerQueue, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const woken = await Promise.race([
    queue.next().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return woken;
}

function liveStatus(state: 'live' | 'degraded', at: EventId): LiveEvent {
  return { id: at, type: 'live-status', data: { state } };
}
