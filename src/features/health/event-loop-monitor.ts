import { createHistogram, performance, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';

/**
 * How late and how busy this process's event loop is, in the Prometheus text format (served at
 * `GET /metrics`, docs/api.md). Work that holds the loop — a regex gone quadratic, a huge render —
 * delays every request and stream of the process, so this is the first figure to watch.
 *
 * A timer due every RESOLUTION_MS records how late it ran. The quantiles, the maximum and the
 * utilization cover the time since the previous scrape; the sum and count are totals since the
 * start. Not `monitorEventLoopDelay`: its `reset()` forgets when it last sampled, so a stall that
 * begins just after a reset is never recorded (Node 20: a 200 ms hold right after `reset()` left a
 * maximum of 10 ms), and a per-scrape window needs a reset per scrape.
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const RESOLUTION_MS = 10;
const QUANTILES = [0.5, 0.9, 0.99] as const;

export class EventLoopMonitor {
  /** Delays since the previous scrape, in nanoseconds (at least 1: the histogram's lowest value). */
  #window: RecordableHistogram = createHistogram();
  #due = performance.now() + RESOLUTION_MS;
  #delaySumSeconds = 0;
  #samples = 0;
  #utilization: EventLoopUtilization = performance.eventLoopUtilization();
  readonly #timer = setInterval(() => this.#sample(), RESOLUTION_MS);

  constructor() {
    // Sampling never keeps the process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The metrics as Prometheus text; starts the next window of quantiles, maximum and utilization. */
  scrape(): string {
    const window = this.#window;
    const observed = window.count > 0;
    // No sample since the previous scrape (two scrapes within one period): quantiles are NaN, as
    // Prometheus summaries have them without observations.
    const quantile = (q: number) => (observed ? seconds(window.percentile(q * 100)) : NaN);
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, this.#utilization).utilization;
    this.#utilization = now;
    const lines = [
      '# HELP parley_event_loop_delay_seconds How late the event loop ran a timer due every 10 ms (quantiles since the previous scrape).',
      '# TYPE parley_event_loop_delay_seconds summary',
      ...QUANTILES.map((q) => `parley_event_loop_delay_seconds{quantile="${q}"} ${quantile(q)}`),
      `parley_event_loop_delay_seconds_sum ${this.#delaySumSeconds}`,
      `parley_event_loop_delay_seconds_count ${this.#samples}`,
      '# HELP parley_event_loop_delay_max_seconds The longest event loop delay since the previous scrape.',
      '# TYPE parley_event_loop_delay_max_seconds gauge',
      `parley_event_loop_delay_max_seconds ${observed ? seconds(window.max) : 0}`,
      '# HELP parley_event_loop_utilization Share of the time since the previous scrape the event loop was busy (0 to 1).',
      '# TYPE parley_event_loop_utilization gauge',
      `parley_event_loop_utilization ${utilization}`,
    ];
    window.reset();
    return `${lines.join('\n')}\n`;
  }

  #sample(): void {
    const now = performance.now();
    const delayNanoseconds = Math.max(0, Math.round((now - this.#due) * 1e6));
    this.#window.record(Math.max(1, delayNanoseconds));
    this.#delaySumSeconds += delayNanoseconds / 1e9;
    this.#samples += 1;
    // Node re-arms an interval from when its callback runs, so the next one is due a period from now.
    this.#due = now + RESOLUTION_MS;
  }
}

function seconds(nanoseconds: number): number {
  return nanoseconds <= 1 ? 0 : nanoseconds / 1e9;
}
