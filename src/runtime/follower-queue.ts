import type { LiveEvent } from './live-bus.js';

/**
 * Live events one follower may have waiting while its replay is held back by its client. Events
 * are shared by every follower of a thread: a queued one costs a reference (8 bytes) and keeps it
 * alive. 10,000 is a long reply's worth of deltas.
 */
const MAX_QUEUED_EVENTS = 10_000;

/** The live events a follower has been handed by the bus and not yet taken, bounded. */
export class FollowerQueue {
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
