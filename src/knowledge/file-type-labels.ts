import type { DocumentKind } from './document.js';

/**
 * What the client's labels (the file name's extension and the claimed `Content-Type`) say a
 * file is. Labels never decide a kind on their own: they only choose among the text kinds the
 * bytes allow (txt, md, csv) and name the claim a spoofed file is refused against.
 */
export interface Label {
  /** A kind the labels claim, if they name one Parley supports. */
  readonly kind: DocumentKind | null;
  /** A format the labels name that Parley refuses even as text (JavaScript, SVG, XML). */
  readonly refused: string | null;
}

export const KIND_NAMES: Readonly<Record<DocumentKind, string>> = {
  pdf: 'PDF',
  docx: 'DOCX',
  xlsx: 'XLSX',
  pptx: 'PPTX',
  text: 'plain text',
  markdown: 'Markdown',
  html: 'HTML',
  csv: 'CSV',
  json: 'JSON',
};

export const SUPPORTED_LIST = Object.values(KIND_NAMES).join(', ');

// Maps, not objects: a name such as `constructor` must not find Object.prototype's members.
const EXTENSION_KINDS: ReadonlyMap<string, DocumentKind> = new Map(
  Object.entries<DocumentKind>({
    pdf: 'pdf',
    docx: 'docx',
    xlsx: 'xlsx',
    pptx: 'pptx',
    txt: 'text',
    text: 'text',
    md: 'markdown',
    markdown: 'markdown',
    htm: 'html',
    html: 'html',
    csv: 'csv',
    json: 'json',
  }),
);

const MIME_KINDS: ReadonlyMap<string, DocumentKind> = new Map(
  Object.entries<DocumentKind>({
    'application/pdf': 'pdf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
    'text/plain': 'text',
    'text/markdown': 'markdown',
    'text/x-markdown': 'markdown',
    'text/html': 'html',
    'text/csv': 'csv',
    'application/json': 'json',
  }),
);

const REFUSED_EXTENSIONS: ReadonlyMap<string, string> = new Map(
  Object.entries<string>({
    js: 'JavaScript',
    mjs: 'JavaScript',
    cjs: 'JavaScript',
    svg: 'SVG image',
    xml: 'XML document',
    xhtml: 'XHTML document',
  }),
);

const REFUSED_MIME_TYPES: ReadonlyMap<string, string> = new Map(
  Object.entries<string>({
    'text/javascript': 'JavaScript',
    'application/javascript': 'JavaScript',
    'image/svg+xml': 'SVG image',
    'application/xml': 'XML document',
    'text/xml': 'XML document',
    'application/xhtml+xml': 'XHTML document',
  }),
);

export function readLabel(input: { fileName: string; claimedType: string | undefined }): {
  extension: Label;
  claimed: Label;
} {
  const baseName = input.fileName.split(/[/\\]/).pop() ?? '';
  const dot = baseName.lastIndexOf('.');
  const extension = dot > 0 ? baseName.slice(dot + 1).toLowerCase() : '';
  const mimeType = (input.claimedType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return {
    extension: { kind: EXTENSION_KINDS.get(extension) ?? null, refused: REFUSED_EXTENSIONS.get(extension) ?? null },
    claimed: { kind: MIME_KINDS.get(mimeType) ?? null, refused: REFUSED_MIME_TYPES.get(mimeType) ?? null },
  };
}
