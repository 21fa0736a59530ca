import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UUID_PATTERN } from '../ids.js';

/**
 * Where uploaded files' bytes live (docs/adr/0022-file-storage-and-job-queue.md): one file per
 * upload under `FILES_DIR`, at a storage key the server makes from ids — `<organization_id>/<file_id>`
 * — and never from anything the client sent. Uploads are first written to `tmp/` under the same
 * root (same file system, so the move to the key is an atomic rename).
 *
 * Crash rule: the bytes are renamed to their key *before* the row that owns them commits, and
 * removed if that commit fails; so a row never lacks its bytes. A crash between the rename and
 * the commit leaves bytes no row owns: `sweep` (at start, then hourly) removes keys without a row
 * and temporary files, once older than ORPHAN_GRACE_MS (an upload in flight on another process
 * is younger than that, or still being written, which keeps its mtime fresh).
 */
export class FileStorage {
  readonly root: string;
  readonly #temporary: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.#temporary = path.join(this.root, TEMPORARY_FOLDER);
  }

  static keyFor(input: { organizationId: string; fileId: string }): string {
    return `${input.organizationId}/${input.fileId}`;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.#temporary, { recursive: true, mode: 0o700 });
  }

  /**
   * Streams `source` into a new temporary file, counting and hashing as it goes, and fails with
   * `tooLarge()`'s error as soon as more than `maxBytes` have arrived (the partial file removed).
   */
  async receive(input: { source: Readable; maxBytes: number; tooLarge: () => Error }): Promise<ReceivedFile> {
    await this.init();
    const temporaryPath = path.join(this.#temporary, `${randomUUID()}.part`);
    const meter = new ByteMeter(input.maxBytes, input.tooLarge);
    // Opened before the pipeline starts: a stream that opens its file itself may still be opening
    // (and create the file) when an early failure has already run the removal below.
    const handle = await fsp.open(temporaryPath, 'wx', 0o600);
    try {
      await pipeline(input.source, meter, handle.createWriteStream());
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fsp.rm(temporaryPath, { force: true });
      throw error;
    }
    return { temporaryPath, size: meter.bytes, sha256: meter.digest() };
  }

  /** Moves a received file to its key (before the owning row commits: see the class comment). */
  async place(input: { temporaryPath: string; key: string }): Promise<void> {
    const target = this.pathOf(input.key);
    await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await fsp.rename(input.temporaryPath, target);
  }

  async removeTemporary(temporaryPath: string): Promise<void> {
    if (path.dirname(path.resolve(temporaryPath)) !== this.#temporary) throw new Error('not a temporary upload');
    await fsp.rm(temporaryPath, { force: true });
  }

  async remove(key: string): Promise<void> {
    await fsp.rm(this.pathOf(key), { force: true });
  }

  /** The bytes of a stored file; the caller handles a missing file (ENOENT) as an internal error. */
  open(key: string): fs.ReadStream {
    return fs.createReadStream(this.pathOf(key));
  }

  /** The path of a key; throws for anything that is not `<uuid>/<uuid>` (so never outside the root). */
  pathOf(key: string): string {
    if (!STORAGE_KEY.test(key)) throw new Error('not a storage key');
    return path.join(this.root, key);
  }

  /**
   * Removes bytes no file row owns (`owned` says which keys have a row) and temporary files, of
   * those last modified more than `graceMs` ago. Returns how many files were removed.
   */
  async sweep(input: {
    owned: (keys: string[]) => Promise<Set<string>>;
    graceMs: number;
    now: number;
  }): Promise<number> {
    const cutoff = input.now - input.graceMs;
    let removed = 0;
    for (const name of await listFolder(this.#temporary)) {
      const file = path.join(this.#temporary, name);
      if ((await modifiedAt(file)) < cutoff) removed += await removeFile(file);
    }
    for (const organization of await listFolder(this.root)) {
      if (!UUID.test(organization)) continue;
      const keys = (await listFolder(path.join(this.root, organization)))
        .filter((name) => UUID.test(name))
        .map((name) => `${organization}/${name}`);
      const old: string[] = [];
      for (const key of keys) if ((await modifiedAt(this.pathOf(key))) < cutoff) old.push(key);
      const owned = await input.owned(old);
      for (const key of old) if (!owned.has(key)) removed += await removeFile(this.pathOf(key));
    }
    return removed;
  }
}

export interface ReceivedFile {
  temporaryPath: string;
  size: number;
  sha256: string;
}

/** How old an unowned file must be before the sweep removes it. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

const TEMPORARY_FOLDER = 'tmp';
const UUID = new RegExp(UUID_PATTERN, 'i');
const STORAGE_KEY = new RegExp(`^${UUID_PATTERN.slice(1, -1)}/${UUID_PATTERN.slice(1, -1)}$`, 'i');

/** Counts and hashes the bytes that pass; errors once more than `maxBytes` went through. */
class ByteMeter extends Transform {
  bytes = 0;
  readonly #hash = createHash('sha256');

  constructor(
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return callback(this.tooLarge());
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}

async function listFolder(folder: string): Promise<string[]> {
  try {
    return await fsp.readdir(folder);
  } catch (error) {
    // A root nothing was uploaded to yet has no folders: nothing to sweep.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function modifiedAt(file: string): Promise<number> {
  return (await fsp.stat(file)).mtimeMs;
}

async function removeFile(file: string): Promise<number> {
  await fsp.rm(file, { force: true });
  return 1;
}
