import { hkdfSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ServerSecret } from '../../src/security/server-secret.js';

describe('ServerSecret', () => {
  const root = Buffer.alloc(32, 0x5a);

  it('derives one 32-byte HKDF-SHA256 key per purpose, the same for the same root', () => {
    const secret = ServerSecret.fromConfig({ secretKey: root });
    const tokens = secret.deriveKey('parley stream tokens v1');
    expect(Buffer.from(tokens)).toEqual(
      Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), 'parley stream tokens v1', 32)),
    );
    expect(ServerSecret.fromConfig({ secretKey: Buffer.from(root) }).deriveKey('parley stream tokens v1')).toEqual(
      tokens,
    );
    expect(Buffer.from(secret.deriveKey('parley secrets at rest v1')).equals(Buffer.from(tokens))).toBe(false);
    expect(secret.configured).toBe(true);
  });

  it('makes a random root per instance only when neither a key nor a key file is configured (in-memory databases)', () => {
    const first = ServerSecret.fromConfig({ secretKey: undefined });
    const second = ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: undefined });
    expect(first.configured).toBe(false);
    expect(first.source).toEqual({ kind: 'process' });
    expect(Buffer.from(first.deriveKey('x')).equals(Buffer.from(second.deriveKey('x')))).toBe(false);
  });

  it('generates the key file once (mode 0600, 64 hex characters) and reuses it: the same keys after a restart', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-secret-'));
    try {
      const file = path.join(directory, 'nested', 'secret.key');
      const first = ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: file });
      expect(first.source).toEqual({ kind: 'file', file, created: true });
      expect(first.configured).toBe(true);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toMatch(/^[0-9a-f]{64}\n$/);
      expect(fs.readdirSync(path.dirname(file))).toEqual(['secret.key']);

      const restarted = ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: file });
      expect(restarted.source).toEqual({ kind: 'file', file, created: false });
      expect(restarted.deriveKey('x')).toEqual(first.deriveKey('x'));
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
      // The file holds a root like PARLEY_SECRET_KEY's: setting it to the file's value keeps every key.
      expect(ServerSecret.fromConfig({ secretKey: Buffer.from(text.trim(), 'hex') }).deriveKey('x')).toEqual(
        first.deriveKey('x'),
      );
      // A configured key wins over the file.
      expect(ServerSecret.fromConfig({ secretKey: root, secretKeyFile: file }).deriveKey('x')).toEqual(
        ServerSecret.fromConfig({ secretKey: root }).deriveKey('x'),
      );
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses a key file that holds no key, naming the file and not its content', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-secret-'));
    try {
      const file = path.join(directory, 'secret.key');
      fs.writeFileSync(file, 'not-a-key-abcdef', { mode: 0o600 });
      expect(() => ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: file })).toThrow(
        `The secret key file ${file} does not hold at least 64 hexadecimal characters; restore it or remove it`,
      );
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('derives new keys from the current root and keeps the retired roots for deriveKeys', () => {
    const retired = Buffer.alloc(32, 0x11);
    const secret = ServerSecret.fromConfig({ secretKey: root, retiredSecretKeys: [retired] });
    const expected = (key: Buffer) => new Uint8Array(hkdfSync('sha256', key, Buffer.alloc(0), 'x', 32));
    expect(secret.deriveKey('x')).toEqual(expected(root));
    expect(secret.deriveKeys('x')).toEqual([expected(root), expected(retired)]);
  });

  it('shows no bytes when printed or serialised, and keeps its own copy of the root', () => {
    const given = Buffer.from(root);
    const secret = ServerSecret.fromConfig({ secretKey: given });
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
