import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Gauge, Summary, type Registry } from 'prom-client';

/**
 * How late and how busy this process's event loop is, as prom-client metrics in the app's registry
 * (served at `GET /metrics`, docs/api.md). Work that holds the loop — a regex gone quadratic, a
 * huge render — delays every request and stream of the process, so this is the first figure to
 * watch.
 *
 * A timer due every RESOLUTION_MS records how late it ran. The quantiles, the maximum and the
 * utilization cover a sliding window of the last 50 to 60 s (six 10 s buckets, the newest one
 * filling), kept by the sampler alone: a scrape reads them and changes nothing, so any number of
 * scrapers see the same figures. The summary's sum and count are totals since the start.
 *
 * Not `monitorEventLoopDelay` (nor prom-client's default `nodejs_eventloop_lag_*`, built on it):
 * its `reset()` forgets when it last sampled, so a stall that begins just after a reset is never
 * recorded (Node 20: a 200 ms hold right after `reset()` left a maximum of 10 ms), and a window
 * needs resets.
 */
const RESOLUTION_MS = 10;
const WINDOW_SECONDS = 60;
const BUCKETS = 6;
const BUCKET_MS = (WINDOW_SECONDS * 1000) / BUCKETS;

/** One 10 s slice of the window: when it began, its longest delay, the loop's counters then. */
interface Bucket {
  startedAt: number;
  maximumSeconds: number;
  utilization: EventLoopUtilization;
}

export class EventLoopMonitor {
  readonly #delay: Summary;
  /** A ring: `#current` is the newest bucket, the one after it the oldest. */
  readonly #buckets: Bucket[];
  #current = 0;
  #due = performance.now() + RESOLUTION_MS;
  readonly #timer = setInterval(() => this.#sample(), RESOLUTION_MS);

  constructor(registry: Registry) {
    const start = { startedAt: performance.now(), maximumSeconds: 0, utilization: performance.eventLoopUtilization() };
    this.#buckets = Array.from({ length: BUCKETS }, () => ({ ...start }));
    const registers = [registry];
    this.#delay = new Summary({
      name: 'parley_event_loop_delay_seconds',
      help: 'How late the event loop ran a timer due every 10 ms (quantiles over the last 50 to 60 s).',
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: WINDOW_SECONDS,
      ageBuckets: BUCKETS,
      registers,
    });
    const maximum: Gauge = new Gauge({
      name: 'parley_event_loop_delay_max_seconds',
      help: 'The longest event loop delay over the last 50 to 60 s.',
      registers,
      collect: () => maximum.set(Math.max(...this.#buckets.map((bucket) => bucket.maximumSeconds))),
    });
    const utilization: Gauge = new Gauge({
      name: 'parley_event_loop_utilization',
      help: 'Share of the last 50 to 60 s the event loop was busy (0 to 1).',
      registers,
      collect: () => utilization.set(this.#utilizationSinceOldest()),
    });
    // Sampling never keeps the process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sample(): void {
    const now = performance.now();
    const delaySeconds = Math.max(0, now - this.#due) / 1000;
    // Node re-arms an interval from when its callback runs, so the next one is due a period from now.
    this.#due = now + RESOLUTION_MS;
    if (now - this.#bucket(this.#current).startedAt >= BUCKET_MS) {
      // One step however long the loop was held: the buckets before the hold keep its busy time,
      // and the delay it caused lands in the new one.
      this.#current = (this.#current + 1) % BUCKETS;
      this.#buckets[this.#current] = {
        startedAt: now,
        maximumSeconds: 0,
        utilization: performance.eventLoopUtilization(),
      };
    }
    const bucket = this.#bucket(this.#current);
    bucket.maximumSeconds = Math.max(bucket.maximumSeconds, delaySeconds);
    this.#delay.observe(delaySeconds);
  }

  #utilizationSinceOldest(): number {
    const oldest = this.#bucket((this.#current + 1) % BUCKETS).utilization;
    const { utilization } = performance.eventLoopUtilization(oldest);
    // No time elapsed yet (a scrape in the same instant as the start) is 0/0.
    return Number.isFinite(utilization) ? utilization : 0;
  }

  #bucket(index: number): Bucket {
    const bucket = this.#buckets[index];
    if (!bucket) throw new Error(`No event loop bucket ${index}.`);
    return bucket;
  }
}
