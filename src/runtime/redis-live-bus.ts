import type { LiveBus, LiveEvent } from './live-bus.js';
import { threadKey, type RedisLiveConnections } from './redis-live-connections.js';

/**
 * The live bus over Redis Pub/Sub: one channel per thread (`<prefix>:{thread:<id>}:live`), the
 * process's one subscriber connection listening to the channels of the threads it has followers
 * for. Delivery is at most once, as in memory: a follower fills gaps from the stored log and the
 * replay stream, and drops what it has seen by event id. Publishing never throws or waits: a
 * message Redis does not take is lost to the live path only.
 */
export class RedisLiveBus implements LiveBus {
  readonly #redis: RedisLiveConnections;
  readonly #prefix: string;
  #subscribers = 0;

  constructor(input: { redis: RedisLiveConnections; keyPrefix: string }) {
    this.#redis = input.redis;
    this.#prefix = input.keyPrefix;
  }

  get live(): boolean {
    return this.#redis.live;
  }

  /** Whether this process's publishes reach Redis now (its command connection is ready). */
  get publishing(): boolean {
    return this.#redis.commands.status === 'ready';
  }

  get subscriberCount(): number {
    return this.#subscribers;
  }

  watch(watcher: () => void): () => void {
    return this.#redis.watch(watcher);
  }

  publish(threadId: string, event: LiveEvent): void {
    this.#redis.commands.publish(this.#channel(threadId), JSON.stringify(event)).catch(() => this.#redis.suspect());
  }

  subscribe(threadId: string, listener: (event: LiveEvent) => void): () => void {
    this.#subscribers += 1;
    const stop = this.#redis.listen(this.#channel(threadId), (message) => {
      listener(JSON.parse(message) as LiveEvent);
    });
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.#subscribers -= 1;
      stop();
    };
  }

  subscribed(threadId: string): Promise<void> | null {
    return this.#redis.confirmed(this.#channel(threadId));
  }

  #channel(threadId: string): string {
    return threadKey(this.#prefix, threadId, 'live');
  }
}
