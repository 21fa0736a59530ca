import { describe, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { UUID_V7_PATTERN } from '../helpers/ids.js';

describe('newId', () => {
  it('makes RFC 9562 version-7 UUIDs carrying the current time', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7_PATTERN);
    const milliseconds = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(milliseconds).toBeGreaterThanOrEqual(before);
    expect(milliseconds).toBeLessThanOrEqual(after + 1);
  });

  it('is unique and strictly increasing in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 50_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    for (let index = 1; index < ids.length; index += 1) expect(ids[index]! > ids[index - 1]!).toBe(true);
  });
});
