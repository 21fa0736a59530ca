import type { DeltaBuffer, TransientEvent } from './delta-buffer.js';
import type { EventId } from './event-id.js';
import type { LiveEvent } from './live-bus.js';
import { threadKey, type RedisLiveConnections } from './redis-live-connections.js';

/** Threads whose delta counters this process keeps (least recently used first out). */
const MAX_THREADS = 10_000;
/** The stream's expiry is pushed back at a thread's first delta after each durable event, and every this many. */
const EXPIRE_EVERY = 500;

/**
 * The replay buffer as a Redis stream per thread (`<prefix>:{thread:<id>}:deltas`), shared by
 * every process: a follower resuming on any process reads the deltas another one recorded. The
 * entry id is the event id itself (`<seq>-<n>`), so `after` is one exclusive XRANGE. The stream
 * is bounded (`MAXLEN ~`) and expires `ttlSeconds` after its latest delta.
 *
 * `record` stays synchronous: the id comes from this process's counters (the process that runs a
 * thread's reply is the one recording its deltas, and it has seen the durable event they follow),
 * and the XADD goes out without being awaited. A delta Redis does not take is missing from
 * replay only; its text is in the stored `message-end`. An XADD with an id not above the
 * stream's last (two processes recording after one event, which the thread's lease prevents) is
 * refused by Redis and dropped the same way.
 */
export class RedisDeltaBuffer implements DeltaBuffer {
  readonly #redis: RedisLiveConnections;
  readonly #prefix: string;
  readonly #maxLength: number;
  readonly #ttlSeconds: number;
  readonly #counters = new Map<string, EventId>();

  constructor(input: { redis: RedisLiveConnections; keyPrefix: string; maxLength: number; ttlSeconds: number }) {
    this.#redis = input.redis;
    this.#prefix = input.keyPrefix;
    this.#maxLength = input.maxLength;
    this.#ttlSeconds = input.ttlSeconds;
  }

  advance(threadId: string, seq: number): void {
    const counter = this.#counter(threadId);
    if (seq > counter.seq) {
      counter.seq = seq;
      counter.delta = 0;
    }
  }

  record(threadId: string, transient: TransientEvent): LiveEvent {
    const counter = this.#counter(threadId);
    counter.delta += 1;
    const id = { seq: counter.seq, delta: counter.delta };
    const event = { id, type: transient.type, data: transient.data } as LiveEvent;
    const key = threadKey(this.#prefix, threadId, 'deltas');
    const { commands } = this.#redis;
    commands
      .xadd(key, 'MAXLEN', '~', this.#maxLength, `${id.seq}-${id.delta}`, 'e', JSON.stringify(event))
      .catch(() => undefined);
    if (id.delta === 1 || id.delta % EXPIRE_EVERY === 0) commands.expire(key, this.#ttlSeconds).catch(() => undefined);
    return event;
  }

  /** The stream's deltas after `after`; none while Redis is unreachable (followers then poll the store). */
  async after(threadId: string, after: EventId): Promise<LiveEvent[]> {
    const key = threadKey(this.#prefix, threadId, 'deltas');
    let entries: [string, string[]][];
    try {
      entries = await this.#redis.commands.xrange(key, `(${after.seq}-${after.delta}`, '+');
    } catch {
      return [];
    }
    return entries.map(([, fields]) => JSON.parse(fields[1]!) as LiveEvent);
  }

  #counter(threadId: string): EventId {
    let counter = this.#counters.get(threadId);
    if (counter) {
      // Map order is insertion order: re-inserting keeps the most recently used thread last.
      this.#counters.delete(threadId);
      this.#counters.set(threadId, counter);
      return counter;
    }
    if (this.#counters.size >= MAX_THREADS) {
      const oldest = this.#counters.keys().next().value;
      if (oldest !== undefined) this.#counters.delete(oldest);
    }
    counter = { seq: 0, delta: 0 };
    this.#counters.set(threadId, counter);
    return counter;
  }
}
