import { hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { loadOrCreateSecretKeyFile } from './secret-key-file.js';

/**
 * Where the root came from: `environment` (`PARLEY_SECRET_KEY` or `PARLEY_SECRET_KEYS`), `file`
 * (generated into the data folder and kept there), or `process` (random, for this process alone:
 * only with an in-memory database, where nothing outlives the process anyway).
 */
export type SecretSource =
  { kind: 'environment' } | { kind: 'file'; file: string; created: boolean } | { kind: 'process' };

/**
 * The server's root secret, from which every key the server needs is derived — one per purpose,
 * so a key made for one use (signing stream tokens) is never valid for another (encrypting tool
 * secrets at rest). Keys are derived with HKDF-SHA256 (RFC 5869) with the purpose as its `info`.
 * No salt: the root is at least 256 random bits, which the extract step needs no salt to spread
 * (RFC 5869 §3.1), and a salt would have to be shared by every process just like the root.
 *
 * After a rotation (`PARLEY_SECRET_KEYS=new,old`) the older roots are kept as well: new keys are
 * derived from the current root only, and `deriveKeys` gives the old roots' keys too, for opening
 * what was sealed before.
 *
 * The roots never leave this object: they are not properties, and printing or serialising the
 * object shows no bytes.
 */
export class ServerSecret {
  readonly #roots: readonly Buffer[];
  readonly #derived = new Map<string, Buffer[]>();

  private constructor(
    roots: readonly Buffer[],
    readonly source: SecretSource,
  ) {
    this.#roots = roots.map((root) => Buffer.from(root));
  }

  /**
   * The configured root (`Config.secretKey`, then `retiredSecretKeys`), else the one kept in
   * `secretKeyFile` (generated on first start), else a random one for this process alone.
   */
  static fromConfig(config: {
    secretKey: Buffer | undefined;
    retiredSecretKeys?: readonly Buffer[];
    secretKeyFile?: string | undefined;
  }): ServerSecret {
    if (config.secretKey !== undefined) {
      return new ServerSecret([config.secretKey, ...(config.retiredSecretKeys ?? [])], { kind: 'environment' });
    }
    if (config.secretKeyFile !== undefined) {
      const { root, created } = loadOrCreateSecretKeyFile(config.secretKeyFile);
      return new ServerSecret([root], { kind: 'file', file: config.secretKeyFile, created });
    }
    return new ServerSecret([randomBytes(32)], { kind: 'process' });
  }

  /** False when the root was made at random by this process: what it signs dies with it. */
  get configured(): boolean {
    return this.source.kind !== 'process';
  }

  /**
   * The current root's 32-byte key for `purpose` (e.g. `parley stream tokens v1`). The purpose
   * names its version: changing how a key is used means a new purpose, hence a new key.
   */
  deriveKey(purpose: string): Uint8Array {
    return new Uint8Array(this.#keysFor(purpose)[0]!);
  }

  /** The key for `purpose` from every root, the current one first. */
  deriveKeys(purpose: string): Uint8Array[] {
    return this.#keysFor(purpose).map((key) => new Uint8Array(key));
  }

  #keysFor(purpose: string): Buffer[] {
    let keys = this.#derived.get(purpose);
    if (keys === undefined) {
      keys = this.#roots.map((root) => Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), purpose, 32)));
      this.#derived.set(purpose, keys);
    }
    return keys;
  }

  toJSON(): string {
    return '[ServerSecret]';
  }

  [inspect.custom](): string {
    return '[ServerSecret]';
  }
}
