import { hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * The server's root secret (`PARLEY_SECRET_KEY`), from which every key the server needs is
 * derived — one per purpose, so a key made for one use (signing stream tokens) is never valid
 * for another (encrypting tool secrets at rest). Keys are derived with HKDF-SHA256 (RFC 5869)
 * with the purpose as its `info`. No salt: the root is at least 256 random bits, which the
 * extract step needs no salt to spread (RFC 5869 §3.1), and a salt would have to be shared by
 * every process just like the root.
 *
 * The root never leaves this object: it is not a property, and printing or serialising the
 * object shows no bytes.
 */
export class ServerSecret {
  readonly #root: Buffer;
  readonly #derived = new Map<string, Buffer>();

  private constructor(
    root: Buffer,
    /**
     * False when the root was made at random by this process (no `PARLEY_SECRET_KEY`): what it
     * signs is valid on this process only, until it stops.
     */
    readonly configured: boolean,
  ) {
    this.#root = Buffer.from(root);
  }

  /** The configured secret (`Config.secretKey`), or a random one for this process alone. */
  static fromConfig(secretKey: Buffer | undefined): ServerSecret {
    return secretKey === undefined ? new ServerSecret(randomBytes(32), false) : new ServerSecret(secretKey, true);
  }

  /**
   * The 32-byte key for `purpose` (e.g. `parley stream tokens v1`). The purpose names its
   * version: changing how a key is used means a new purpose, hence a new key.
   */
  deriveKey(purpose: string): Uint8Array {
    let key = this.#derived.get(purpose);
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', this.#root, Buffer.alloc(0), purpose, 32));
      this.#derived.set(purpose, key);
    }
    return new Uint8Array(key);
  }

  toJSON(): string {
    return '[ServerSecret]';
  }

  [inspect.custom](): string {
    return '[ServerSecret]';
  }
}
