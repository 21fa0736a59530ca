import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../ids.js';
import type { FileIntakeService } from './file-intake.service.js';

/** How often due URL files are looked for, at most (a shorter interval is checked that often). */
const CHECK_EVERY_MS = 60_000;
const FILES_PER_CHECK = 100;

/**
 * `CRAWL_RECRAWL_INTERVAL_MS` (0: off): URL files whose last index is older than the interval
 * are re-crawled, by the same job a re-index request enqueues. Every process checks; a file with
 * a queued or running job is skipped, so a re-crawl is not enqueued twice by one process (two
 * PostgreSQL processes checking in the same instant may both enqueue one: the second crawl only
 * refreshes the index again).
 */
export class RecrawlScheduler {
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | null = null;

  constructor(
    private readonly input: { intake: FileIntakeService; clock: Clock; intervalMs: number; log: FastifyBaseLogger },
  ) {}

  start(): void {
    if (this.input.intervalMs === 0 || this.#timer) return;
    this.#timer = setInterval(() => this.check(), Math.min(CHECK_EVERY_MS, this.input.intervalMs));
    this.#timer.unref();
  }

  check(): void {
    if (this.#checking) return;
    const before = new Date(this.input.clock.now().getTime() - this.input.intervalMs).toISOString();
    this.#checking = this.input.intake
      .recrawlDue({ before, limit: FILES_PER_CHECK })
      .then(() => undefined)
      .catch((error: unknown) => this.input.log.error({ err: error }, 'periodic re-crawl check failed'))
      .finally(() => (this.#checking = null));
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#checking;
  }
}
