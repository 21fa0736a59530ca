import { hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ServerSecret } from '../../src/security/server-secret.js';

describe('ServerSecret', () => {
  const root = Buffer.alloc(32, 0x5a);

  it('derives one 32-byte HKDF-SHA256 key per purpose, the same for the same root', () => {
    const secret = ServerSecret.fromConfig(root);
    const tokens = secret.deriveKey('parley stream tokens v1');
    expect(Buffer.from(tokens)).toEqual(
      Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), 'parley stream tokens v1', 32)),
    );
    expect(ServerSecret.fromConfig(Buffer.from(root)).deriveKey('parley stream tokens v1')).toEqual(tokens);
    expect(Buffer.from(secret.deriveKey('parley secrets at rest v1')).equals(Buffer.from(tokens))).toBe(false);
    expect(secret.configured).toBe(true);
  });

  it('makes a random root per instance when none is configured', () => {
    const first = ServerSecret.fromConfig(undefined);
    const second = ServerSecret.fromConfig(undefined);
    expect(first.configured).toBe(false);
    expect(Buffer.from(first.deriveKey('x')).equals(Buffer.from(second.deriveKey('x')))).toBe(false);
  });

  it('shows no bytes when printed or serialised, and keeps its own copy of the root', () => {
    const given = Buffer.from(root);
    const secret = ServerSecret.fromConfig(given);
    const key = secret.deriveKey('x');
    given.fill(0);
    key.fill(0);
    expect(Buffer.from(secret.deriveKey('x'))).toEqual(Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), 'x', 32)));
    for (const shown of [JSON.stringify({ secret }), inspect(secret), String(Object.keys(secret))]) {
      expect(shown).not.toContain(root.toString('hex'));
      expect(shown).not.toContain('5a5a');
    }
  });
});
