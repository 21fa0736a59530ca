import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { ServerSecret } from './server-secret.js';

/** The HKDF purpose of the at-rest encryption key; a new scheme takes a new purpose. */
export const SECRETS_AT_REST_PURPOSE = 'parley secrets at rest v1';

/** Every sealed value starts with this: the scheme's version. */
const VERSION = 'psb1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 8;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

interface BoxKey {
  id: string;
  key: Buffer;
}

/**
 * Secrets at rest (tool credentials, header values): AES-256-GCM with a key derived from the
 * server's root secret for this one purpose.
 *
 * A sealed value is `psb1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts): a random 96-bit IV
 * per value, the 128-bit tag, and the key id — the first 8 bytes of the SHA-256 of the key, which
 * says which root sealed it without revealing anything of the key. The version and key id are the
 * additional authenticated data, so they cannot be swapped. Values are sealed with the current
 * root's key and opened with whichever root's key the id names (`PARLEY_SECRET_KEYS=new,old`).
 */
export class SecretBox {
  readonly #keys: readonly BoxKey[];

  constructor(secret: ServerSecret) {
    this.#keys = secret.deriveKeys(SECRETS_AT_REST_PURPOSE).map((bytes) => {
      const key = Buffer.from(bytes);
      return { id: createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES).toString('base64url'), key };
    });
  }

  /** Whether `value` has the shape of a sealed value (says nothing about whether it opens). */
  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(`${VERSION}.`);
  }

  seal(plaintext: string): string {
    const current = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const header = `${VERSION}.${current.id}`;
    const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(header, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      header,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** The plaintext; throws SecretBoxError if the value is malformed, altered or sealed by a key this server lacks. */
  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretBoxError('Not a sealed secret (expected psb1.…)');
    const [version, keyId, iv, ciphertext, tag] = parts as [string, string, string, string, string];
    const key = this.#keys.find((candidate) => candidate.id === keyId);
    if (!key) {
      throw new SecretBoxError(
        `The secret was sealed with a key this server does not have (key id ${keyId}); list that key in PARLEY_SECRET_KEYS`,
      );
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES)
      throw new SecretBoxError('The sealed secret is malformed');
    const decipher = createDecipheriv('aes-256-gcm', key.key, ivBytes, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(`${version}.${keyId}`, 'utf8'));
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM says only "unable to authenticate": the value was altered, or sealed under another key.
      throw new SecretBoxError('The sealed secret failed authentication: it was altered or sealed with another key');
    }
  }

  toJSON(): string {
    return '[SecretBox]';
  }

  [inspect.custom](): string {
    return '[SecretBox]';
  }
}

/** What a secret looks like in every response: `••••` and its last four characters (none when shorter than 8). */
export function maskSecret(value: string): string {
  const characters = [...value];
  return characters.length < 8 ? MASK : `${MASK}${characters.slice(-4).join('')}`;
}

/** The mask's dots: a value that starts with them is a masked value sent back, never a new secret. */
export const MASK = '••••';
