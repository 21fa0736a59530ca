/**
 * Names of formats Parley does not index, recognised by their magic bytes, so a refusal can say
 * what the file is ("files of this type (PNG image) are not supported"). Recognising them is a
 * courtesy: anything that is neither an allowed binary format nor valid text is refused anyway.
 */
interface Signature {
  readonly name: string;
  readonly offset: number;
  readonly bytes: readonly number[];
  /** Formats that are also valid text, so they must be recognised before the text check. */
  readonly textual?: true;
}

const ascii = (text: string): number[] => [...text].map((character) => character.charCodeAt(0));

const SIGNATURES: readonly Signature[] = [
  { name: 'PNG image', offset: 0, bytes: [0x89, ...ascii('PNG\r\n\x1a\n')] },
  { name: 'JPEG image', offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { name: 'GIF image', offset: 0, bytes: ascii('GIF8') },
  { name: 'WebP image', offset: 8, bytes: ascii('WEBP') },
  { name: 'BMP image', offset: 0, bytes: ascii('BM') },
  { name: 'TIFF image', offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00] },
  { name: 'TIFF image', offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { name: 'icon', offset: 0, bytes: [0x00, 0x00, 0x01, 0x00] },
  { name: 'Windows executable', offset: 0, bytes: ascii('MZ') },
  { name: 'ELF executable', offset: 0, bytes: [0x7f, ...ascii('ELF')] },
  { name: 'Mach-O executable', offset: 0, bytes: [0xcf, 0xfa, 0xed, 0xfe] },
  { name: 'Mach-O executable', offset: 0, bytes: [0xfe, 0xed, 0xfa, 0xcf] },
  { name: 'Java class or Mach-O universal binary', offset: 0, bytes: [0xca, 0xfe, 0xba, 0xbe] },
  { name: 'WebAssembly module', offset: 0, bytes: [0x00, ...ascii('asm')] },
  { name: 'gzip archive', offset: 0, bytes: [0x1f, 0x8b] },
  { name: 'bzip2 archive', offset: 0, bytes: ascii('BZh') },
  { name: 'xz archive', offset: 0, bytes: [0xfd, ...ascii('7zXZ'), 0x00] },
  { name: 'Zstandard archive', offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: '7-Zip archive', offset: 0, bytes: [...ascii('7z'), 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'RAR archive', offset: 0, bytes: ascii('Rar!\x1a\x07') },
  { name: 'tar archive', offset: 257, bytes: ascii('ustar') },
  {
    name: 'legacy or password-protected Office document (DOC, XLS, PPT)',
    offset: 0,
    bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
  },
  { name: 'RTF document', offset: 0, bytes: ascii('{\\rtf'), textual: true },
  { name: 'SQLite database', offset: 0, bytes: ascii('SQLite format 3\0') },
  { name: 'MP3 audio', offset: 0, bytes: ascii('ID3') },
  { name: 'MP4 or QuickTime video', offset: 4, bytes: ascii('ftyp') },
  { name: 'Ogg media', offset: 0, bytes: ascii('OggS') },
  { name: 'WAV or AVI media', offset: 0, bytes: ascii('RIFF') },
  { name: 'PostScript document', offset: 0, bytes: ascii('%!PS'), textual: true },
];

/**
 * The name of the known unsupported format the head starts with, if any. Two-byte signatures
 * (`MZ`, `BM`) would match ordinary text, so with `textOnly` only the formats that are text
 * themselves are tried; the rest are named only once the bytes have failed the text check.
 */
export function recognizeFormat(head: Uint8Array, options: { textOnly: boolean }): string | null {
  const match = SIGNATURES.find(
    ({ offset, bytes, textual }) =>
      (textual === true || !options.textOnly) && bytes.every((byte, index) => head[offset + index] === byte),
  );
  return match?.name ?? null;
}
