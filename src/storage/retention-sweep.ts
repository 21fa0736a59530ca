import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../ids.js';
import type { Store, StoreWriters } from './store.js';

/** Rows one delete removes: a short write transaction, however many are due. */
export const RETENTION_BATCH = 500;
/** Batches one sweep deletes at most; the rest wait for the next sweep. */
const MAX_BATCHES_PER_SWEEP = 20;
const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Deletes at most `limit` finished rows older than `before` (ISO time); answers how many. */
export type TrimFinished = (writers: StoreWriters, input: { before: string; limit: number }) => Promise<number>;

/**
 * Deletes a log's finished rows older than `maxAgeMs`: at start, then every ten minutes, in
 * batches of `RETENTION_BATCH`, each its own write transaction (a sweep never holds the writer
 * long). What is still in progress is never the trim's to touch. Every process may sweep; two
 * sweeping at once delete disjoint or no rows. `maxAgeMs` 0 keeps everything.
 */
export class RetentionSweep {
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | null = null;

  constructor(
    private readonly input: {
      /** What is swept, for the log line of a failed sweep ("finished jobs"). */
      what: string;
      store: Store;
      clock: Clock;
      maxAgeMs: number;
      trim: TrimFinished;
      log: FastifyBaseLogger;
    },
  ) {}

  start(): void {
    if (this.input.maxAgeMs === 0 || this.#timer) return;
    this.#run();
    this.#timer = setInterval(() => this.#run(), SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** One sweep: returns how many rows it deleted (none when the retention is 0: keep everything). */
  async sweep(): Promise<number> {
    if (this.input.maxAgeMs === 0) return 0;
    const before = new Date(this.input.clock.now().getTime() - this.input.maxAgeMs).toISOString();
    let deleted = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch += 1) {
      const count = await this.input.store.write((writers) =>
        this.input.trim(writers, { before, limit: RETENTION_BATCH }),
      );
      deleted += count;
      if (count < RETENTION_BATCH) break;
    }
    return deleted;
  }

  #run(): void {
    if (this.#sweeping) return;
    this.#sweeping = this.sweep()
      .catch((error: unknown) => {
        this.input.log.error({ err: error }, `retention: deleting old ${this.input.what} failed`);
        return 0;
      })
      .finally(() => (this.#sweeping = null));
  }
}
