import zlib from 'node:zlib';
import type { ByteSource } from './byte-source.js';

/**
 * A small, bounded ZIP reader (PKWARE APPNOTE 6.3): the end-of-central-directory record and the
 * central directory are read and checked before any library touches an archive (OOXML files
 * are ZIP packages), and single entries are inflated with a byte cap. It never decompresses a
 * whole archive, and it refuses what a zip bomb or a path-traversal archive needs: huge declared
 * sizes, extreme compression ratios, too many entries, encryption, unsafe names.
 *
 * Declared sizes can lie. `readZipEntry` therefore inflates with `maxOutputLength` set to the
 * size the directory declares, and the extraction worker's memory cap stops what a library
 * (mammoth's jszip) inflates on its own.
 */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

export interface ZipLimits {
  readonly maxTotalBytes: number;
  readonly maxEntries: number;
  /** Uncompressed ÷ compressed above which an entry is refused… */
  readonly maxRatio: number;
  /** …unless it is this small (small XML parts compress very well and are harmless). */
  readonly ratioFloorBytes: number;
}

const MIB = 1024 * 1024;

export const ZIP_LIMITS: ZipLimits = Object.freeze({
  maxTotalBytes: 512 * MIB,
  maxEntries: 10_000,
  maxRatio: 100,
  ratioFloorBytes: MIB,
});

/** The archive is refused; `message` is user-facing (it becomes a 422 or an extraction error). */
export class ZipRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipRefused';
  }
}

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const END_RECORD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const DIRECTORY_ENTRY_BYTES = 46;
const LOCAL_HEADER_BYTES = 30;
const STORED = 0;
const DEFLATED = 8;

interface EndOfDirectory {
  readonly entryCount: number;
  readonly directorySize: number;
  readonly directoryOffset: number;
  readonly recordOffset: number;
}

/** The archive's entries after every check of the directory; throws ZipRefused. */
export async function readZipDirectory(source: ByteSource, limits: ZipLimits = ZIP_LIMITS): Promise<ZipEntry[]> {
  const end = await readEndOfDirectory(source);
  if (end.entryCount > limits.maxEntries) {
    throw new ZipRefused(`the archive has ${end.entryCount} entries (at most ${limits.maxEntries} are accepted)`);
  }
  const directory = view(await source.read(end.directoryOffset, end.directorySize));
  if (directory.byteLength !== end.directorySize) throw damaged();
  const entries: ZipEntry[] = [];
  let offset = 0;
  let totalBytes = 0;
  for (let index = 0; index < end.entryCount; index += 1) {
    const { entry, next } = readDirectoryEntry(directory, offset);
    checkEntry({ entry, limits, directoryOffset: end.directoryOffset });
    totalBytes += entry.uncompressedSize;
    if (totalBytes > limits.maxTotalBytes) {
      throw new ZipRefused(`the archive would expand to more than ${limits.maxTotalBytes / MIB} MiB`);
    }
    entries.push(entry);
    offset = next;
  }
  return entries;
}

async function readEndOfDirectory(source: ByteSource): Promise<EndOfDirectory> {
  if (source.size < END_RECORD_BYTES) throw damaged();
  const tailLength = Math.min(source.size, END_RECORD_BYTES + MAX_COMMENT_BYTES);
  const tailStart = source.size - tailLength;
  const tail = view(await source.read(tailStart, tailLength));
  for (let at = tail.byteLength - END_RECORD_BYTES; at >= 0; at -= 1) {
    if (tail.getUint32(at, true) !== END_OF_DIRECTORY) continue;
    const disk = tail.getUint16(at + 4, true);
    const directoryDisk = tail.getUint16(at + 6, true);
    const entriesHere = tail.getUint16(at + 8, true);
    const entryCount = tail.getUint16(at + 10, true);
    const directorySize = tail.getUint32(at + 12, true);
    const directoryOffset = tail.getUint32(at + 16, true);
    if (disk !== 0 || directoryDisk !== 0 || entriesHere !== entryCount) {
      throw new ZipRefused('the archive spans several disks, which is not supported');
    }
    if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      throw new ZipRefused('the archive uses ZIP64, which is not supported');
    }
    const recordOffset = tailStart + at;
    if (directoryOffset + directorySize > recordOffset) throw damaged();
    return { entryCount, directorySize, directoryOffset, recordOffset };
  }
  throw damaged();
}

function readDirectoryEntry(directory: DataView, offset: number): { entry: ZipEntry; next: number } {
  if (offset + DIRECTORY_ENTRY_BYTES > directory.byteLength) throw damaged();
  if (directory.getUint32(offset, true) !== DIRECTORY_ENTRY) throw damaged();
  const flags = directory.getUint16(offset + 8, true);
  const nameLength = directory.getUint16(offset + 28, true);
  const extraLength = directory.getUint16(offset + 30, true);
  const commentLength = directory.getUint16(offset + 32, true);
  const nameStart = offset + DIRECTORY_ENTRY_BYTES;
  const next = nameStart + nameLength + extraLength + commentLength;
  if (next > directory.byteLength) throw damaged();
  // Bit 0: traditional encryption; bit 6: strong encryption (APPNOTE 4.4.4).
  if ((flags & 0x41) !== 0) throw new ZipRefused('the archive is encrypted');
  const nameBytes = new Uint8Array(directory.buffer, directory.byteOffset + nameStart, nameLength);
  const entry: ZipEntry = {
    name: new TextDecoder((flags & 0x800) !== 0 ? 'utf-8' : 'latin1').decode(nameBytes),
    method: directory.getUint16(offset + 10, true),
    compressedSize: directory.getUint32(offset + 20, true),
    uncompressedSize: directory.getUint32(offset + 24, true),
    localHeaderOffset: directory.getUint32(offset + 42, true),
  };
  return { entry, next };
}

function checkEntry(input: { entry: ZipEntry; limits: ZipLimits; directoryOffset: number }): void {
  const { entry, limits } = input;
  if (!isSafeEntryName(entry.name)) throw new ZipRefused('the archive contains an entry with an unsafe path');
  if (entry.method !== STORED && entry.method !== DEFLATED) {
    throw new ZipRefused('the archive uses a compression method that is not supported');
  }
  if (entry.compressedSize === 0xffffffff || entry.uncompressedSize === 0xffffffff) {
    throw new ZipRefused('the archive uses ZIP64, which is not supported');
  }
  if (entry.localHeaderOffset + LOCAL_HEADER_BYTES > input.directoryOffset) throw damaged();
  if (entry.method === STORED && entry.compressedSize !== entry.uncompressedSize) throw damaged();
  const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
  if (entry.uncompressedSize > limits.ratioFloorBytes && ratio > limits.maxRatio) {
    throw new ZipRefused(
      `the archive looks like a zip bomb: an entry expands ${Math.round(ratio)} times (at most ${limits.maxRatio} are accepted)`,
    );
  }
}

/** No absolute paths, drive letters, `..` segments or NUL: names a careless unzip would write outside its folder. */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.includes('\0')) return false;
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-z]:/i.test(name)) return false;
  return !name.split(/[/\\]/).includes('..');
}

/** One entry's bytes, inflated with a cap: never more than the directory declared, nor `maxBytes`. */
export async function readZipEntry(input: { source: ByteSource; entry: ZipEntry; maxBytes: number }): Promise<Buffer> {
  const { source, entry } = input;
  if (entry.uncompressedSize > input.maxBytes) {
    throw new ZipRefused(`the archive's part ${entry.name} is larger than ${Math.floor(input.maxBytes / MIB)} MiB`);
  }
  const header = view(await source.read(entry.localHeaderOffset, LOCAL_HEADER_BYTES));
  if (header.byteLength !== LOCAL_HEADER_BYTES || header.getUint32(0, true) !== LOCAL_HEADER) throw damaged();
  const dataStart =
    entry.localHeaderOffset + LOCAL_HEADER_BYTES + header.getUint16(26, true) + header.getUint16(28, true);
  const data = await source.read(dataStart, entry.compressedSize);
  if (data.byteLength !== entry.compressedSize) throw damaged();
  if (entry.uncompressedSize === 0) return Buffer.alloc(0);
  if (entry.method === STORED) return Buffer.from(data);
  try {
    return zlib.inflateRawSync(data, { maxOutputLength: entry.uncompressedSize });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ZipRefused(`the archive's part ${entry.name} holds more data than its directory declares`);
    }
    throw damaged();
  }
}

function damaged(): ZipRefused {
  return new ZipRefused('the archive is damaged or not a ZIP file');
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
