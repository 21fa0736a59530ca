import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../ids.js';
import type { Store } from '../storage/store.js';

/** Jobs one delete removes: a short write transaction, however many are due. */
export const RETENTION_BATCH = 500;
/** Batches one sweep deletes at most; the rest wait for the next sweep. */
const MAX_BATCHES_PER_SWEEP = 20;
const SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * Deletes finished jobs (succeeded, failed, cancelled) older than `JOB_RETENTION_HOURS`: at
 * start, then every ten minutes, in batches of `RETENTION_BATCH`. Queued and running jobs are
 * never touched. Every process may sweep; two sweeping at once delete disjoint or no rows.
 */
export class JobRetention {
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | null = null;

  constructor(private readonly input: { store: Store; clock: Clock; retentionHours: number; log: FastifyBaseLogger }) {}

  start(): void {
    if (this.input.retentionHours === 0 || this.#timer) return;
    this.#run();
    this.#timer = setInterval(() => this.#run(), SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** One sweep: returns how many jobs it deleted. */
  async sweep(): Promise<number> {
    const before = new Date(this.input.clock.now().getTime() - this.input.retentionHours * 3_600_000).toISOString();
    let deleted = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch += 1) {
      const count = await this.input.store.write((writers) =>
        writers.jobs.trimFinished({ before, limit: RETENTION_BATCH }),
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
        this.input.log.error({ err: error }, 'job queue: deleting old finished jobs failed');
        return 0;
      })
      .finally(() => (this.#sweeping = null));
  }
}
