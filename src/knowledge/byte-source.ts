import fs from 'node:fs/promises';

/**
 * Random access to a file's bytes, whether it is on disk (an upload) or in memory (a fetched
 * body), so detection and the ZIP reader read only the parts they need (a head, a directory)
 * instead of loading a 100 MB file.
 */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.byteLength, offset + length)),
    close: async () => undefined,
  };
}

export async function fileSource(path: string): Promise<ByteSource> {
  const handle = await fs.open(path, 'r');
  try {
    const { size } = await handle.stat();
    return {
      size,
      read: async (offset, length) => {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, offset);
        return buffer.subarray(0, bytesRead);
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Exactly one of `path` and `bytes`, as the callers' inputs promise. */
export async function openByteSource(input: { path?: string; bytes?: Uint8Array }): Promise<ByteSource> {
  if ((input.path === undefined) === (input.bytes === undefined)) {
    throw new TypeError('give exactly one of path and bytes');
  }
  return input.bytes !== undefined ? bytesSource(input.bytes) : fileSource(input.path as string);
}
