import { describe, expect, it } from 'vitest';
import { boundedError, modelResult, storedResult } from '../../src/runtime/tool-results.js';

const bytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');

describe('tool result bounds', () => {
  it('keeps a result that fits as it is (the same value)', () => {
    const result = { a: 1 };
    expect(storedResult(result, JSON.stringify(result), 1024)).toBe(result);
    expect(modelResult(result, JSON.stringify(result), 1024)).toBe(result);
  });

  it('stores a marker within the cap even when the JSON is all quotes and backslashes (they grow when escaped)', () => {
    const result = { text: '"\\'.repeat(5000) };
    const json = JSON.stringify(result);
    const stored = storedResult(result, json, 2048) as { head: string; tail: string; truncated: boolean };
    expect(stored.truncated).toBe(true);
    expect(bytes(stored)).toBeLessThanOrEqual(2048);
    expect(json.startsWith(stored.head)).toBe(true);
    expect(json.endsWith(stored.tail)).toBe(true);
    expect(stored.head.length).toBeGreaterThan(200);
  });

  it('cuts at character boundaries (4-byte characters), exact to the cap', () => {
    const result = '😀'.repeat(2000);
    const json = JSON.stringify(result);
    const sent = modelResult(result, json, 1024) as string;
    expect(bytes(sent)).toBeLessThanOrEqual(1024);
    expect(sent).not.toContain('\uFFFD');
    expect(sent.startsWith('"😀😀')).toBe(true);
    expect(sent.endsWith('😀😀"')).toBe(true);
  });

  it('bounds an error text the same way', () => {
    const error = `failed: ${'y'.repeat(4000)}`;
    const bounded = boundedError(error, 1024);
    expect(bytes(bounded)).toBeLessThanOrEqual(1024);
    expect(bounded).toContain('bytes of this error cut here');
    expect(boundedError('short', 1024)).toBe('short');
  });
});
