import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { maskSecret, SecretBox, SecretBoxError } from '../../src/security/secret-box.js';
import { ServerSecret } from '../../src/security/server-secret.js';

const OLD_ROOT = Buffer.alloc(32, 0x01);
const NEW_ROOT = Buffer.alloc(32, 0x02);
const box = (secretKey: Buffer, retiredSecretKeys: Buffer[] = []) =>
  new SecretBox(ServerSecret.fromConfig({ secretKey, retiredSecretKeys }));

/** A sealed value with one of its base64url parts changed in its first character. */
function altered(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const value = parts[part]!;
  parts[part] = (value[0] === 'A' ? 'B' : 'A') + value.slice(1);
  return parts.join('.');
}

describe('SecretBox', () => {
  it('round-trips text of any kind, with a fresh IV each time and no plaintext in the sealed value', () => {
    const sealer = box(OLD_ROOT);
    for (const plaintext of ['sk-live-0123456789', '', 'ключ 🔑 鍵', 'x'.repeat(10_000)]) {
      const sealed = sealer.seal(plaintext);
      expect(sealed).toMatch(/^psb1\.[\w-]{11}\.[\w-]{16}\.[\w-]*\.[\w-]{22}$/);
      if (plaintext.length > 3) expect(sealed).not.toContain(plaintext);
      expect(sealer.open(sealed)).toBe(plaintext);
      expect(SecretBox.isSealed(sealed)).toBe(true);
    }
    const first = sealer.seal('same');
    const second = sealer.seal('same');
    expect(first).not.toBe(second);
    expect(first.split('.')[1]).toBe(second.split('.')[1]);
    expect(SecretBox.isSealed('sk-live')).toBe(false);
    expect(SecretBox.isSealed(42)).toBe(false);
  });

  it('refuses an altered IV, ciphertext, tag or key id, and values that are not sealed', () => {
    const sealer = box(OLD_ROOT);
    const sealed = sealer.seal('a secret that matters');
    const failed = 'The sealed secret failed authentication: it was altered or sealed with another key';
    expect(() => sealer.open(altered(sealed, 3))).toThrow(failed);
    expect(() => sealer.open(altered(sealed, 4))).toThrow(failed);
    expect(() => sealer.open(altered(sealed, 2))).toThrow(failed);
    expect(() => sealer.open(altered(sealed, 1))).toThrow(/sealed with a key this server does not have/);
    expect(() => sealer.open(`${sealed}.extra`)).toThrow('Not a sealed secret (expected psb1.…)');
    expect(() => sealer.open('plain text')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    expect(() => sealer.open([...parts.slice(0, 4), 'AAAA'].join('.'))).toThrow('The sealed secret is malformed');
  });

  it('cannot open what another root sealed', () => {
    const sealed = box(OLD_ROOT).seal('tenant secret');
    const keyId = sealed.split('.')[1];
    expect(() => box(NEW_ROOT).open(sealed)).toThrow(
      `The secret was sealed with a key this server does not have (key id ${keyId}); list that key in PARLEY_SECRET_KEYS`,
    );
  });

  it('rotates: PARLEY_SECRET_KEYS=new,old seals with the new root and opens values of either', () => {
    const sealedBefore = box(OLD_ROOT).seal('sealed before the rotation');
    const rotated = box(NEW_ROOT, [OLD_ROOT]);
    expect(rotated.open(sealedBefore)).toBe('sealed before the rotation');
    const sealedAfter = rotated.seal('sealed after');
    expect(sealedAfter.split('.')[1]).toBe(box(NEW_ROOT).seal('x').split('.')[1]);
    expect(sealedAfter.split('.')[1]).not.toBe(sealedBefore.split('.')[1]);
    expect(box(NEW_ROOT).open(sealedAfter)).toBe('sealed after');
    expect(() => box(OLD_ROOT).open(sealedAfter)).toThrow(SecretBoxError);
  });

  it('uses a key of its own purpose: not the root, not the stream-token key', () => {
    const secret = ServerSecret.fromConfig({ secretKey: OLD_ROOT });
    const sealed = new SecretBox(secret).seal('x');
    expect(sealed).not.toContain(Buffer.from(secret.deriveKey('parley stream tokens v1')).toString('base64url'));
    expect(inspect(new SecretBox(secret))).toBe('[SecretBox]');
    expect(JSON.stringify({ box: new SecretBox(secret) })).toBe('{"box":"[SecretBox]"}');
  });
});

describe('maskSecret', () => {
  it('shows four dots and the last four characters, and only dots below eight characters', () => {
    expect(maskSecret('sk-live-0123456789')).toBe('••••6789');
    expect(maskSecret('12345678')).toBe('••••5678');
    expect(maskSecret('1234567')).toBe('••••');
    expect(maskSecret('')).toBe('••••');
    expect(maskSecret('ключ🔑ключ🔑')).toBe('••••люч🔑');
  });
});
