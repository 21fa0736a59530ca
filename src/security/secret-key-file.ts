import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The generated root: 32 random bytes, as the 64 hexadecimal characters `PARLEY_SECRET_KEY` takes. */
const GENERATED_KEY_BYTES = 32;

export class SecretKeyFileError extends Error {
  constructor(file: string, problem: string) {
    super(`The secret key file ${file} ${problem}`);
    this.name = 'SecretKeyFileError';
  }
}

/**
 * The root secret kept in the data folder when no `PARLEY_SECRET_KEY` is configured: read when the
 * file exists, otherwise generated and written with mode 0600. Creation is atomic and never
 * overwrites: the key goes to a temporary file that is then hard-linked to the final name, which
 * fails if another process linked its own first — that one's key is then read and used, so two
 * processes starting together on one data folder end up with the same root.
 *
 * Returns whether this call created the file (the caller announces it once, without its value).
 */
export function loadOrCreateSecretKeyFile(file: string): { root: Buffer; created: boolean } {
  const existing = readSecretKeyFile(file);
  if (existing) return { root: existing, created: false };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const root = randomBytes(GENERATED_KEY_BYTES);
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, `${root.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = readSecretKeyFile(file);
    if (!winner) throw new SecretKeyFileError(file, 'disappeared while it was being created');
    return { root: winner, created: false };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  return { root, created: true };
}

/** The file's root, or null when there is no file. A file that is not a key stops start-up. */
function readSecretKeyFile(file: string): Buffer | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const value = text.trim();
  if (!/^(?:[0-9a-f]{2}){32,}$/i.test(value)) {
    throw new SecretKeyFileError(file, 'does not hold at least 64 hexadecimal characters; restore it or remove it');
  }
  return Buffer.from(value, 'hex');
}
