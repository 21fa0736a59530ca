import { TextDecoder } from 'node:util';

/**
 * How Parley reads a text file's bytes: UTF-8 (a BOM is allowed and dropped), or UTF-16 when a
 * byte-order mark says so. Nothing is guessed: bytes that are not valid in the encoding are an
 * error, never replacement characters, so detection (file-type.ts) and extraction agree.
 */
export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface TextEncoding {
  readonly encoding: TextEncodingName;
  /** Bytes of the byte-order mark at the start (0 when there is none). */
  readonly bomLength: number;
}

export function textEncodingOf(head: Uint8Array): TextEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  return { encoding: 'utf-8', bomLength: 0 };
}

/** A decoder that throws on invalid input; `ignoreBOM: true` keeps the mark so it is cut by length. */
export function strictDecoder(encoding: TextEncodingName): TextDecoder {
  return new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
}

/** The whole text, without its byte-order mark; throws TypeError when the bytes are not valid text. */
export function decodeText(bytes: Uint8Array): string {
  const { encoding, bomLength } = textEncodingOf(bytes);
  return strictDecoder(encoding).decode(bytes.subarray(bomLength));
}
