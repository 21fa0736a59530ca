import { describe, expect, it } from 'vitest';
import type { ServerProcess } from '../../src/domain/processes.js';
import { BeatObserver } from '../../src/runtime/process-liveness.js';

function process(id: string, beats: number, heartbeatMs = 2000): ServerProcess {
  return { id, host: 'h', pid: 1, heartbeatMs, beats, startedAt: '', heartbeatAt: '' };
}

describe('BeatObserver', () => {
  it('calls a process dead once its count has not moved for three of its intervals, from when it was first seen', () => {
    const observer = new BeatObserver();
    const self = { selfId: 'self' };
    // A newcomer has seen nothing move yet: it waits the whole window.
    expect(observer.observe([process('self', 0), process('a', 7)], { ...self, nowMs: 1000 })).toEqual([]);
    expect(observer.observe([process('a', 7)], { ...self, nowMs: 6999 })).toEqual([]);
    expect(observer.observe([process('a', 7)], { ...self, nowMs: 7000 })).toEqual([{ id: 'a', beats: 7 }]);
    // It beats after all (it was slow): alive again, and the window starts over.
    expect(observer.observe([process('a', 8)], { ...self, nowMs: 8000 })).toEqual([]);
    expect(observer.observe([process('a', 8)], { ...self, nowMs: 13_999 })).toEqual([]);
    expect(observer.observe([process('a', 8)], { ...self, nowMs: 14_000 })).toEqual([{ id: 'a', beats: 8 }]);
  });

  it('measures each process by its own interval, never calls itself dead, and forgets rows that went', () => {
    const observer = new BeatObserver();
    const self = { selfId: 'self' };
    const rows = [process('self', 0), process('slow', 1, 10_000), process('quick', 1, 1000)];
    expect(observer.observe(rows, { ...self, nowMs: 0 })).toEqual([]);
    expect(observer.observe(rows, { ...self, nowMs: 3000 })).toEqual([{ id: 'quick', beats: 1 }]);
    expect(observer.observe(rows, { ...self, nowMs: 29_999 })).toEqual([{ id: 'quick', beats: 1 }]);
    expect(observer.observe(rows, { ...self, nowMs: 30_000 })).toEqual([
      { id: 'slow', beats: 1 },
      { id: 'quick', beats: 1 },
    ]);
    // The quick one's row went (removed as dead); a row under the same id later is a new sighting.
    expect(observer.observe([process('slow', 2, 10_000)], { ...self, nowMs: 31_000 })).toEqual([]);
    expect(observer.observe([process('quick', 1, 1000)], { ...self, nowMs: 32_000 })).toEqual([]);
  });
});
