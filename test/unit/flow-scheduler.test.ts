import type { FastifyBaseLogger } from 'fastify';
import { afterEach, expect, it, vi } from 'vitest';
import { FlowScheduler, slotTimes } from '../../src/features/flows/flow-scheduler.js';
import { newId } from '../../src/ids.js';
import type { Store } from '../../src/storage/store.js';

/** The scheduler's slot arithmetic and its start/stop (fake timers; the ticks' writes are tested in test/http). */

afterEach(() => {
  vi.useRealTimers();
});

it('fires the latest slot at or before now (a slot at now included) and waits for the first after now', () => {
  const schedule = { cron: '*/10 * * * * *', timezone: 'UTC', next_run_at: '2026-01-01T00:00:00.000Z' };
  expect(slotTimes(schedule, new Date('2026-01-01T05:00:20.000Z'))).toEqual({
    slotAt: new Date('2026-01-01T05:00:20.000Z'),
    nextAt: new Date('2026-01-01T05:00:30.000Z'),
  });
  expect(slotTimes(schedule, new Date('2026-01-01T05:00:29.999Z'))).toEqual({
    slotAt: new Date('2026-01-01T05:00:20.000Z'),
    nextAt: new Date('2026-01-01T05:00:30.000Z'),
  });
  // Due on time: the slot is the one it was due at.
  expect(slotTimes(schedule, new Date('2026-01-01T00:00:00.300Z')).slotAt).toEqual(new Date(schedule.next_run_at));
});

it('counts slots in the schedule timezone: 09:00 New York is 14:00 UTC in winter, 13:00 in summer', () => {
  const daily = { cron: '0 9 * * *', timezone: 'America/New_York' };
  const winter = slotTimes({ ...daily, next_run_at: '2026-03-06T14:00:00.000Z' }, new Date('2026-03-06T14:00:05Z'));
  expect(winter).toEqual({ slotAt: new Date('2026-03-06T14:00:00Z'), nextAt: new Date('2026-03-07T14:00:00Z') });
  const change = slotTimes({ ...daily, next_run_at: '2026-03-07T14:00:00.000Z' }, new Date('2026-03-07T14:00:05Z'));
  expect(change.nextAt).toEqual(new Date('2026-03-08T13:00:00Z'));
});

it('stops: the tick in flight finishes first, and none starts after', async () => {
  vi.useFakeTimers();
  let release: () => void = () => undefined;
  let selects = 0;
  const store = {
    flowSchedules: {
      due: async () => {
        selects += 1;
        await new Promise<void>((resolve) => (release = resolve));
        return [];
      },
    },
  } as unknown as Store;
  const log = { error: vi.fn(), warn: vi.fn() } as unknown as FastifyBaseLogger;
  const clock = { now: () => new Date() };
  const scheduler = new FlowScheduler({ store, clock, newId, maxAttempts: 1, intervalMs: 100, wake: vi.fn(), log });
  scheduler.start();
  expect(selects).toBe(1); // at once: slots missed while the process was down
  await vi.advanceTimersByTimeAsync(350);
  expect(selects).toBe(1); // intervals that come while a tick runs do not start another
  let stopped = false;
  const stopping = scheduler.stop().then(() => (stopped = true));
  await vi.advanceTimersByTimeAsync(0);
  expect(stopped).toBe(false);
  release();
  await stopping;
  await vi.advanceTimersByTimeAsync(1000);
  scheduler.start();
  expect(selects).toBe(1);
  expect(log.error).not.toHaveBeenCalled();
});
