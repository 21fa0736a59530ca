import { bounded } from '../redis-client.js';
import type { DeltaBuffer, TransientEvent } from './delta-buffer.js';
import { START, compareEventIds, type EventId } from './event-id.js';
import type { LiveEvent } from './live-bus.js';
import { threadKey, type RedisLiveConnections } from './redis-live-connections.js';

/** Threads whose latest durable sequence this process keeps (least recently used first out). */
const MAX_THREADS = 10_000;
/** The keys' expiry is pushed back at a thread's first delta after each durable event, and every this many. */
const EXPIRE_EVERY = 500;

/**
 * A committed durable event: raises the thread's latest sequence (never lowers it: two processes'
 * publishes may reach Redis out of order), restarts its delta count, and publishes the event.
 * KEYS: state hash. ARGV: channel, seq, event JSON, TTL seconds.
 */
const DURABLE = `
local latest = tonumber(redis.call('HGET', KEYS[1], 's') or '0')
if tonumber(ARGV[2]) > latest then
  redis.call('HSET', KEYS[1], 's', ARGV[2], 'd', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('PUBLISH', ARGV[1], ARGV[3])
return 0`;

/**
 * A delta: its id is the next one after the thread's latest durable event as Redis knows it, and
 * at least after `floor` (the latest id this process gave or learnt: state lost with a Redis
 * restart goes on from there, not from 1 again), appended to the replay stream and published in
 * the same step; returns the id. KEYS: state hash, stream. ARGV: channel, MAXLEN, TTL seconds,
 * floor seq, floor delta, the event's JSON without its id.
 */
const TRANSIENT = `
local state = redis.call('HMGET', KEYS[1], 's', 'd')
local latest, count = tonumber(state[1] or '0'), tonumber(state[2] or '0')
local floorSeq, floorDelta = tonumber(ARGV[4]), tonumber(ARGV[5])
if floorSeq > latest or (floorSeq == latest and floorDelta > count) then
  latest = floorSeq
  redis.call('HSET', KEYS[1], 's', latest, 'd', floorDelta)
end
local n = redis.call('HINCRBY', KEYS[1], 'd', 1)
local event = '{"id":{"seq":' .. latest .. ',"delta":' .. n .. '},' .. string.sub(ARGV[6], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], latest .. '-' .. n, 'e', event)
redis.call('PUBLISH', ARGV[1], event)
if n == 1 or n % ${EXPIRE_EVERY} == 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return {latest, n}`;

interface Scripts {
  parleyDurable(state: string, channel: string, seq: number, event: string, ttl: number): Promise<unknown>;
  parleyTransient(...args: [string, string, string, number, number, number, number, string]): Promise<[number, number]>;
}

/**
 * The replay buffer as a Redis stream per thread (`<prefix>:{thread:<id>}:deltas`), shared by
 * every process: a follower resuming on any process reads the deltas another one recorded. The
 * entry id is the event id itself (`<seq>-<n>`), so `after` is one exclusive XRANGE. The stream
 * is bounded (`MAXLEN ~`) and expires `ttlSeconds` after its latest delta.
 *
 * Ids are given by Redis, not by the process streaming the reply: a hash per thread
 * (`…:state`) holds its latest durable sequence and delta count, and one script numbers a
 * delta, appends and publishes it; another raises the sequence and publishes a durable event.
 * Publishing order on the channel is then id order, whichever process wrote what — a rating
 * stored by process B in the middle of A's reply is followed by A's next delta. Nothing is
 * awaited: a script Redis does not run loses the event to the live path and replay only (its
 * text is in the stored `message-end`; a durable event is in the store, which followers read
 * when they see a sequence they missed).
 */
export class RedisDeltaBuffer implements DeltaBuffer {
  readonly #redis: RedisLiveConnections;
  readonly #scripts: Scripts;
  readonly #prefix: string;
  readonly #maxLength: number;
  readonly #ttlSeconds: number;
  readonly #latest = new Map<string, EventId>();

  constructor(input: { redis: RedisLiveConnections; keyPrefix: string; maxLength: number; ttlSeconds: number }) {
    this.#redis = input.redis;
    this.#prefix = input.keyPrefix;
    this.#maxLength = input.maxLength;
    this.#ttlSeconds = input.ttlSeconds;
    const { commands } = input.redis;
    commands.defineCommand('parleyDurable', { numberOfKeys: 1, lua: DURABLE });
    commands.defineCommand('parleyTransient', { numberOfKeys: 2, lua: TRANSIENT });
    this.#scripts = commands as unknown as Scripts;
  }

  publishDurable(_bus: unknown, threadId: string, event: LiveEvent): void {
    const { seq } = event.id;
    if (seq > this.#floor(threadId).seq) this.#remember(threadId, { seq, delta: 0 });
    this.#scripts
      .parleyDurable(
        this.#key(threadId, 'state'),
        this.#key(threadId, 'live'),
        seq,
        JSON.stringify(event),
        this.#ttlSeconds,
      )
      .catch(() => this.#redis.suspect());
  }

  publishTransient(_bus: unknown, threadId: string, transient: TransientEvent): void {
    const body = JSON.stringify({ type: transient.type, data: transient.data });
    const floor = this.#floor(threadId);
    this.#scripts
      .parleyTransient(
        this.#key(threadId, 'state'),
        this.#key(threadId, 'deltas'),
        this.#key(threadId, 'live'),
        this.#maxLength,
        this.#ttlSeconds,
        floor.seq,
        floor.delta,
        body,
      )
      .then(([seq, delta]) => {
        const id = { seq: Number(seq), delta: Number(delta) };
        if (compareEventIds(id, this.#floor(threadId)) > 0) this.#remember(threadId, id);
      })
      .catch(() => this.#redis.suspect());
  }

  /** The stream's deltas after `after`; none while Redis is unreachable (followers then poll the store). */
  async after(threadId: string, after: EventId): Promise<LiveEvent[]> {
    let entries: [string, string[]][];
    try {
      const read = this.#redis.commands.xrange(this.#key(threadId, 'deltas'), `(${after.seq}-${after.delta}`, '+');
      entries = await bounded(read, this.#redis.timeoutMs);
    } catch {
      this.#redis.suspect();
      return [];
    }
    return entries.map(([, fields]) => JSON.parse(fields[1]!) as LiveEvent);
  }

  #key(threadId: string, part: 'live' | 'deltas' | 'state'): string {
    return threadKey(this.#prefix, threadId, part);
  }

  /** The latest id of the thread this process gave or learnt ({0, 0} when none lately). */
  #floor(threadId: string): EventId {
    return this.#latest.get(threadId) ?? START;
  }

  #remember(threadId: string, id: EventId): void {
    // Map order is insertion order: re-inserting keeps the most recently used thread last.
    this.#latest.delete(threadId);
    if (this.#latest.size >= MAX_THREADS) {
      const oldest = this.#latest.keys().next().value;
      if (oldest !== undefined) this.#latest.delete(oldest);
    }
    this.#latest.set(threadId, id);
  }
}
