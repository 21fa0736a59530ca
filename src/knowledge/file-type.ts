import { openByteSource, type ByteSource } from './byte-source.js';
import type { DocumentKind } from './document.js';
import { KIND_NAMES, readLabel, SUPPORTED_LIST, type Label } from './file-type-labels.js';
import { recognizeFormat } from './file-type-signatures.js';
import { inspectText, type TextContent } from './file-type-text.js';
import { readZipDirectory, readZipEntry, ZipRefused } from './zip-archive.js';

/**
 * Deciding what an uploaded or fetched file is, from its bytes against an allowlist
 * (reliability.md T25; docs/knowledge-extraction.md). The client's labels are never trusted:
 * they only choose among the text kinds the bytes allow, and a text file labelled as a binary
 * format is refused as spoofed.
 */
export interface DetectedType {
  readonly kind: DocumentKind;
  readonly mimeType: string;
}

/**
 * The file is refused before extraction. `unsupported_file_type` → 415; `unsafe_file` → 422
 * (zip bomb, encrypted or malformed container, empty file). `message` is user-facing.
 */
export class FileTypeRefused extends Error {
  constructor(
    readonly code: 'unsupported_file_type' | 'unsafe_file',
    message: string,
  ) {
    super(message);
    this.name = 'FileTypeRefused';
  }
}

export const MIME_TYPES: Readonly<Record<DocumentKind, string>> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  text: 'text/plain',
  markdown: 'text/markdown',
  html: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
};

/** The main part's content type names the package ([Content_Types].xml, ECMA-376 part 2). */
const OOXML_MAIN_TYPES: readonly [DocumentKind, string][] = [
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml'],
  ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml'],
  ['pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml'],
];

const HEAD_BYTES = 1024;
const CONTENT_TYPES_MAX_BYTES = 1024 * 1024;

/** Decides the kind from the bytes (never the client's label); throws FileTypeRefused. */
export async function detectDocumentType(input: {
  path?: string;
  bytes?: Uint8Array;
  fileName: string;
  claimedType: string | undefined;
}): Promise<DetectedType> {
  const source = await openByteSource(input);
  try {
    return await detect(source, readLabel(input));
  } finally {
    await source.close();
  }
}

async function detect(source: ByteSource, label: { extension: Label; claimed: Label }): Promise<DetectedType> {
  if (source.size === 0) throw new FileTypeRefused('unsafe_file', 'the file is empty');
  const head = await source.read(0, HEAD_BYTES);
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return detected('pdf'); // %PDF-
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) {
    return detected(await detectZipPackage(source));
  }
  const textualFormat = recognizeFormat(head, { textOnly: true });
  if (textualFormat !== null) throw unsupported(textualFormat);
  const verdict = await inspectText(source);
  if ('notText' in verdict) {
    if (verdict.notText === 'not_utf8' && recognizeFormat(head, { textOnly: false }) === null) {
      throw new FileTypeRefused(
        'unsupported_file_type',
        'the file is neither a supported document nor UTF-8 text; save text files as UTF-8',
      );
    }
    throw unsupported(recognizeFormat(head, { textOnly: false }) ?? 'binary data');
  }
  return detected(textKind(verdict.content, label));
}

async function detectZipPackage(source: ByteSource): Promise<DocumentKind> {
  try {
    const entries = await readZipDirectory(source);
    const contentTypes = entries.find((entry) => entry.name === '[Content_Types].xml');
    if (contentTypes === undefined) throw unsupported('ZIP archive');
    const xml = (await readZipEntry({ source, entry: contentTypes, maxBytes: CONTENT_TYPES_MAX_BYTES })).toString();
    const match = OOXML_MAIN_TYPES.find(([, contentType]) => xml.includes(contentType));
    if (match !== undefined) return match[0];
    if (/macroEnabled/i.test(xml)) throw unsupported('macro-enabled Office document');
    throw unsupported('Office package other than DOCX, XLSX or PPTX');
  } catch (error) {
    if (error instanceof ZipRefused) throw new FileTypeRefused('unsafe_file', error.message);
    throw error;
  }
}

const BINARY_KINDS: ReadonlySet<DocumentKind> = new Set(['pdf', 'docx', 'xlsx', 'pptx']);
const LABEL_TEXT_KINDS: ReadonlySet<DocumentKind> = new Set(['text', 'markdown', 'csv']);
const CONTENT_NAMES: Readonly<Record<TextContent, string>> = {
  html: 'HTML',
  svg: 'an SVG image',
  xml: 'XML',
  json: 'JSON',
  text: 'text',
};

function textKind(content: TextContent, label: { extension: Label; claimed: Label }): DocumentKind {
  const claimedBinary = [label.claimed.kind, label.extension.kind].find((kind) => kind && BINARY_KINDS.has(kind));
  if (claimedBinary) {
    throw new FileTypeRefused(
      'unsupported_file_type',
      `the file's content is ${CONTENT_NAMES[content]}, not the ${KIND_NAMES[claimedBinary]} its label claims`,
    );
  }
  if (content === 'svg') throw unsupported('SVG image');
  if (content === 'xml') throw unsupported('XML document');
  if (content === 'html' || content === 'json') return content;
  const refused = label.extension.refused ?? label.claimed.refused;
  if (refused !== null) throw unsupported(refused);
  const chosen = [label.extension.kind, label.claimed.kind].find((kind) => kind && LABEL_TEXT_KINDS.has(kind));
  return chosen ?? 'text';
}

function unsupported(name: string): FileTypeRefused {
  return new FileTypeRefused(
    'unsupported_file_type',
    `files of this type (${name}) are not supported; supported: ${SUPPORTED_LIST}`,
  );
}

function detected(kind: DocumentKind): DetectedType {
  return { kind, mimeType: MIME_TYPES[kind] };
}

function startsWith(head: Uint8Array, bytes: readonly number[]): boolean {
  return bytes.every((byte, index) => head[index] === byte);
}
