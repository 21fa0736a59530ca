import type { FastifyBaseLogger } from 'fastify';
import { Cluster } from 'ioredis';
import { bounded, createRedisClient, type RedisClient } from '../redis-client.js';
import { ClusterHealth } from './redis-cluster-health.js';

export interface RedisLiveSettings {
  /** One server (`redis://`) or a Redis Cluster (`redis+cluster://`, src/redis-client.ts). */
  url: string;
  /** Before every key and channel (several deployments can share one Redis). */
  keyPrefix: string;
  /** The longest any command may take; past it the command fails (Redis counts as unreachable). */
  timeoutMs: number;
}

/** A thread's keys and channels share the hash tag `{thread:<id>}`: one Redis Cluster slot. */
export function threadKey(prefix: string, threadId: string, part: 'live' | 'deltas' | 'state'): string {
  return `${prefix}:{thread:${threadId}}:${part}`;
}

/** Reconnection back-off: 50 ms, doubling, at most 2 s — for ever (a request never waits on it). */
const retryDelay = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000);

/**
 * The live layer's two Redis connections in this process: one for commands (publish, stream
 * appends and reads, auto-pipelined) and ONE subscriber, whose channel subscriptions are counted
 * so a channel is subscribed once however many followers listen to it. Every command fails fast
 * instead of hanging: `commandTimeout`, no offline queue, no retry of a command. ioredis
 * reconnects in the background; the subscriber's channels are subscribed again here (not by
 * ioredis) so `live` turns true only once they all are — a follower that sees `live` misses no
 * later message. On a Redis Cluster `live` also needs every master to serve its slots
 * (`ClusterHealth`): a dead master is not reported by the subscriber, which may sit on another node.
 */
export class RedisLiveConnections {
  readonly commands: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  /** The SUBSCRIBE of each channel, settled once Redis confirmed it (or it failed). */
  readonly #confirmed = new Map<string, Promise<void>>();
  readonly #watchers = new Set<() => void>();
  readonly #log: FastifyBaseLogger;
  readonly #timeoutMs: number;
  /** Null on one server: the subscriber's connection then says all. */
  readonly #health: ClusterHealth | null;
  #live = false;
  #closed = false;

  constructor(settings: RedisLiveSettings, log: FastifyBaseLogger) {
    this.#log = log;
    this.#timeoutMs = settings.timeoutMs;
    const options = { commandTimeout: settings.timeoutMs, retryStrategy: retryDelay };
    this.commands = createRedisClient(settings.url, { ...options, enableAutoPipelining: true });
    this.#subscriber = createRedisClient(settings.url, { ...options, autoResubscribe: false });
    this.commands.on('error', () => undefined);
    this.#subscriber.on('error', (error: Error) => this.#lost(error));
    this.#subscriber.on('close', () => this.#lost(null));
    this.#subscriber.on('ready', () => void this.#resubscribe());
    this.#subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    });
    this.#health =
      this.commands instanceof Cluster
        ? new ClusterHealth({
            cluster: this.commands,
            timeoutMs: settings.timeoutMs,
            retryDelay,
            changed: () => this.#healthChanged(),
          })
        : null;
  }

  /**
   * A live-layer command failed (timed out, connection closed, CLUSTERDOWN, too many
   * redirections): on a cluster, not live until every master answers again.
   */
  suspect(): void {
    this.#health?.suspect();
  }

  /** The longest any command may take. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** True while the subscriber is connected with every channel subscribed. */
  get live(): boolean {
    return this.#live;
  }

  /** Resolves true once `live` (at once if it is), false if `timeoutMs` passes first. */
  whenLive(timeoutMs: number): Promise<boolean> {
    if (this.#live) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(false);
      }, timeoutMs);
      const stop = this.watch(() => {
        if (!this.#live) return;
        clearTimeout(timer);
        stop();
        resolve(true);
      });
    });
  }

  /** Calls `watcher` at each change of `live`; returns the way to stop. */
  watch(watcher: () => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /** Counts one more listener of `channel`; the first one subscribes it. Returns the way to stop. */
  listen(channel: string, handler: (message: string) => void): () => void {
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      if (this.#live) this.#confirmed.set(channel, this.#subscribe([channel]));
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.#handlers.get(channel) !== handlers) return;
      this.#handlers.delete(channel);
      this.#confirmed.delete(channel);
      if (this.#live) this.#subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /**
   * Settles once messages published to `channel` from now on reach its handlers; null when that
   * cannot be had (Redis unreachable: `live` is false, and turns true once it is subscribed again).
   */
  confirmed(channel: string): Promise<void> | null {
    return this.#live ? (this.#confirmed.get(channel) ?? null) : null;
  }

  /**
   * Closes both connections. The command connection QUITs, so what was published last (a stopping
   * run's final events, written just before the app closes) is sent before it closes — a
   * `disconnect` would drop commands still in the pipeline, and followers elsewhere would wait for
   * events that never come. Bounded: past the command timeout it disconnects.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#health?.close();
    this.#setLive(false);
    this.#subscriber.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const quit = this.commands.quit().then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([quit, new Promise((resolve) => (timer = setTimeout(resolve, this.#timeoutMs)))]);
    clearTimeout(timer);
    this.commands.disconnect();
  }

  #subscribe(channels: string[]): Promise<void> {
    return bounded(this.#subscriber.subscribe(...channels), this.#timeoutMs).then(
      () => undefined,
      () => undefined,
    );
  }

  async #resubscribe(): Promise<void> {
    const channels = [...this.#handlers.keys()];
    try {
      if (channels.length > 0) await bounded(this.#subscriber.subscribe(...channels), this.#timeoutMs);
    } catch (error) {
      // The connection went again (or hangs): `close` follows, and the next `ready` retries.
      this.#log.warn({ err: error }, 'Redis live layer: subscribing again failed');
      return;
    }
    if (this.#subscriber.status !== 'ready' || this.#closed || this.#health?.healthy === false) return;
    for (const channel of channels) {
      // Left meanwhile (while not live, so not unsubscribed then): unsubscribed now.
      if (this.#handlers.has(channel)) this.#confirmed.set(channel, Promise.resolve());
      else this.#subscriber.unsubscribe(channel).catch(() => undefined);
    }
    // Channels listened to meanwhile were not in the list: subscribed now.
    for (const channel of this.#handlers.keys())
      if (!this.#confirmed.has(channel)) this.#confirmed.set(channel, this.#subscribe([channel]));
    this.#log.info('Redis live layer connected: live events are shared by every process using it');
    this.#setLive(true);
  }

  #healthChanged(): void {
    if (this.#health?.healthy) {
      // The subscriber may have moved node meanwhile: every channel is confirmed again.
      if (this.#subscriber.status === 'ready') void this.#resubscribe();
    } else this.#lost(new Error('a Redis Cluster master does not serve its slots'));
  }

  #lost(error: Error | null): void {
    if (!this.#live || this.#closed) return;
    this.#log.warn(
      error ? { err: error } : {},
      'Redis live layer unreachable: followers read stored events until it is back',
    );
    this.#confirmed.clear();
    this.#setLive(false);
  }

  #setLive(live: boolean): void {
    if (live === this.#live) return;
    this.#live = live;
    for (const watcher of [...this.#watchers]) watcher();
  }
}
