import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, injectRequest, type TestContext } from '../helpers/harness.js';

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context.close();
});

/** The samples of a Prometheus text exposition, by name with labels. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Holds the event loop for `milliseconds`, as work on a huge text would; returns how long it did. */
function holdLoop(milliseconds: number): number {
  const started = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - started) < milliseconds * 1e6);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

describe('GET /metrics', () => {
  it('serves the event-loop metrics in the Prometheus text format, without a key', async () => {
    await pause(50);
    const response = await injectRequest(context, { method: 'GET', url: '/metrics' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    // The event-loop figures among the others (test/http/observability-metrics.test.ts lists them all).
    const lines = response.raw.split('\n').filter((line) => line.startsWith('# TYPE parley_event_loop'));
    expect(lines).toEqual([
      '# TYPE parley_event_loop_delay_seconds summary',
      '# TYPE parley_event_loop_delay_max_seconds gauge',
      '# TYPE parley_event_loop_utilization gauge',
    ]);
    const values = samples(response.raw);
    expect([...values.keys()].filter((name) => name.startsWith('parley_event_loop'))).toEqual([
      'parley_event_loop_delay_seconds{quantile="0.5"}',
      'parley_event_loop_delay_seconds{quantile="0.9"}',
      'parley_event_loop_delay_seconds{quantile="0.99"}',
      'parley_event_loop_delay_seconds_sum',
      'parley_event_loop_delay_seconds_count',
      'parley_event_loop_delay_max_seconds',
      'parley_event_loop_utilization',
    ]);
    for (const [name, value] of values) expect(Number.isFinite(value) && value >= 0, name).toBe(true);
    expect(values.get('parley_event_loop_delay_seconds_count')).toBeGreaterThan(0);
    expect(values.get('parley_event_loop_utilization')).toBeLessThanOrEqual(1);
  });

  it('keeps a held loop in the maximum of every scrape of the window, and in the totals', async () => {
    const before = samples((await injectRequest(context, { method: 'GET', url: '/metrics' })).raw);
    const held = holdLoop(200);
    await pause(30); // the sampling timer runs once the loop is free
    const after = samples((await injectRequest(context, { method: 'GET', url: '/metrics' })).raw);
    // The timer was due at most one 10 ms period into the hold and ran after it.
    const maximum = after.get('parley_event_loop_delay_max_seconds')!;
    expect(maximum).toBeGreaterThanOrEqual(held - 0.01);
    expect(
      after.get('parley_event_loop_delay_seconds_sum')! - before.get('parley_event_loop_delay_seconds_sum')!,
    ).toBeGreaterThanOrEqual(held - 0.01);
    expect(after.get('parley_event_loop_delay_seconds_count')).toBeGreaterThan(
      before.get('parley_event_loop_delay_seconds_count')!,
    );
    // A scrape no longer starts a window: the next one (another scraper's, say) still sees the hold.
    await pause(30);
    const next = samples((await injectRequest(context, { method: 'GET', url: '/metrics' })).raw);
    expect(next.get('parley_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(held - 0.01);
    expect(next.get('parley_event_loop_delay_seconds_count')).toBeGreaterThan(
      after.get('parley_event_loop_delay_seconds_count')!,
    );
  });
});
