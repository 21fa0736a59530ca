import { describe, expect, it } from 'vitest';
import { MemoryDeltaBuffer } from '../../src/runtime/delta-buffer.js';

function recordDeltas(buffer: MemoryDeltaBuffer, count: number): void {
  for (let index = 0; index < count; index += 1) {
    buffer.record('thread', {
      type: 'text-delta',
      data: { message_id: 'm', run_id: 'r', step: 1, delta: `${index} ` },
    });
  }
}

describe('the memory delta buffer', () => {
  it('keeps up to 20,000 deltas of a thread plus a batch of 2,000, then drops the oldest down to 20,000', async () => {
    const buffer = new MemoryDeltaBuffer();
    buffer.advance('thread', 5);
    recordDeltas(buffer, 22_000);
    let kept = await buffer.after('thread', { seq: 0, delta: 0 });
    expect(kept.map((event) => event.id.delta)).toEqual(Array.from({ length: 22_000 }, (_, index) => index + 1));
    recordDeltas(buffer, 1);
    kept = await buffer.after('thread', { seq: 0, delta: 0 });
    expect(kept).toHaveLength(20_000);
    expect(kept[0]!.id).toEqual({ seq: 5, delta: 2_002 });
    expect(kept.at(-1)!.id).toEqual({ seq: 5, delta: 22_001 });
    expect(kept.at(-1)!.data).toEqual({ message_id: 'm', run_id: 'r', step: 1, delta: '0 ' });
  });
});
