import type { ThreadEventOf, ThreadEventType } from '../domain/thread-events.js';
import type { EventId } from './event-id.js';

/** An event as it travels to live subscribers: durable (stored) or a text delta (not stored). */
export type LiveEvent = ThreadEventOf<ThreadEventType> & { id: EventId };

/**
 * Fan-out of a thread's events to the clients following it. In one process this is memory; when
 * scaled out it is Redis. Delivery is at most once: followers fill gaps from the stored log.
 */
export interface LiveBus {
  publish(threadId: string, event: LiveEvent): void;
  subscribe(threadId: string, listener: (event: LiveEvent) => void): () => void;
  /**
   * Settles once events published from now on reach the thread's subscribers — null when they
   * already do (memory), or cannot (not `live`). A follower awaits it before reading the store.
   */
  subscribed(threadId: string): Promise<void> | null;
  /**
   * False while the bus cannot carry events (Redis unreachable): followers then read the stored
   * log every so often. Memory is always live.
   */
  readonly live: boolean;
  /** Calls `watcher` at each change of `live`; returns the way to stop. */
  watch(watcher: () => void): () => void;
  /** Open subscriptions, for diagnostics and tests. */
  readonly subscriberCount: number;
}

export class MemoryLiveBus implements LiveBus {
  readonly #listeners = new Map<string, Set<(event: LiveEvent) => void>>();
  readonly live = true;

  subscribed(): null {
    return null;
  }

  watch(): () => void {
    return () => undefined;
  }

  publish(threadId: string, event: LiveEvent): void {
    const listeners = this.#listeners.get(threadId);
    if (!listeners) return;
    for (const listener of listeners) listener(event);
  }

  subscribe(threadId: string, listener: (event: LiveEvent) => void): () => void {
    let listeners = this.#listeners.get(threadId);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(threadId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(threadId) === listeners) this.#listeners.delete(threadId);
    };
  }

  /** Open subscriptions, for diagnostics and tests. */
  get subscriberCount(): number {
    let count = 0;
    for (const listeners of this.#listeners.values()) count += listeners.size;
    return count;
  }
}
