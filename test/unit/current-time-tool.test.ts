import { describe, expect, it } from 'vitest';
import { currentTimeToolWith } from '../../src/tools/builtin/current-time.js';

const context = (iso: string) => ({ signal: new AbortController().signal, now: () => new Date(iso) });

describe('the built-in current_time tool', () => {
  it('formats in its default zone, call after call (the default formatter is reused)', async () => {
    const tool = currentTimeToolWith('Europe/Paris');
    expect(await tool.execute({}, context('2026-01-15T09:30:00.000Z'))).toEqual({
      iso: '2026-01-15T09:30:00.000Z',
      timezone: 'Europe/Paris',
      formatted: 'Thursday, 15 January 2026 at 10:30:00 CET',
    });
    expect(await tool.execute({}, context('2026-07-15T09:30:00.000Z'))).toEqual({
      iso: '2026-07-15T09:30:00.000Z',
      timezone: 'Europe/Paris',
      formatted: 'Wednesday, 15 July 2026 at 11:30:00 CEST',
    });
  });

  it("formats in the call's zone when one is given, and the default still works after it", async () => {
    const tool = currentTimeToolWith();
    expect(await tool.execute({ timezone: 'Asia/Tokyo' }, context('2026-01-15T09:30:00.000Z'))).toEqual({
      iso: '2026-01-15T09:30:00.000Z',
      timezone: 'Asia/Tokyo',
      formatted: 'Thursday, 15 January 2026 at 18:30:00 GMT+9',
    });
    expect(await tool.execute({}, context('2026-01-15T09:30:00.000Z'))).toEqual({
      iso: '2026-01-15T09:30:00.000Z',
      timezone: 'UTC',
      formatted: 'Thursday, 15 January 2026 at 09:30:00 UTC',
    });
  });

  it('throws for a zone ICU does not know', async () => {
    const tool = currentTimeToolWith();
    await expect(tool.execute({ timezone: 'Mars/Olympus' }, context('2026-01-15T09:30:00.000Z'))).rejects.toThrow(
      'Unknown time zone "Mars/Olympus"',
    );
  });
});
