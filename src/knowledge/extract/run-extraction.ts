import fs from 'node:fs/promises';
import { ExtractionError, type DocumentKind, type ExtractedDocument } from '../document.js';
import { extractCsv } from './csv-extract.js';
import { extractDocx } from './docx-extract.js';
import { extractHtml } from './html-extract.js';
import { extractJson } from './json-extract.js';
import { extractMarkdown } from './markdown-extract.js';
import { extractPdf } from './pdf-extract.js';
import { extractPptx } from './pptx-extract.js';
import { extractPlainText } from './text-extract.js';
import { decodeText } from './text-decoding.js';
import { extractXlsx } from './xlsx-extract.js';

/** What one extraction job carries into the worker thread. */
export interface ExtractionInput {
  readonly kind: DocumentKind;
  readonly path?: string;
  readonly bytes?: Uint8Array;
  readonly url?: string;
}

/**
 * The extraction itself, run inside the worker thread (extraction-worker.ts): the file's kind
 * was decided by detection, so each kind goes to its reader. An extraction that yields no text
 * at all is an error, never an empty success.
 */
export async function runExtraction(input: ExtractionInput): Promise<ExtractedDocument> {
  const bytes = input.bytes ?? (await fs.readFile(requirePath(input)));
  const document = await extractKind(input, bytes);
  if (document.sections.length === 0) throw new ExtractionError('no text found in the file');
  return document;
}

async function extractKind(input: ExtractionInput, bytes: Uint8Array): Promise<ExtractedDocument> {
  switch (input.kind) {
    case 'pdf':
      return extractPdf(bytes);
    case 'docx':
      return extractDocx(bytes);
    case 'xlsx':
      return extractXlsx(bytes);
    case 'pptx':
      return extractPptx(bytes);
    case 'html':
      return extractHtml({ html: text(bytes), ...(input.url === undefined ? {} : { url: input.url }) });
    case 'csv':
      return extractCsv(text(bytes));
    case 'json':
      return extractJson(text(bytes));
    case 'markdown':
      return extractMarkdown(text(bytes));
    case 'text':
      return extractPlainText(text(bytes));
  }
}

function text(bytes: Uint8Array): string {
  try {
    return decodeText(bytes);
  } catch (error) {
    if (error instanceof TypeError) throw new ExtractionError('the file is not valid UTF-8 text');
    throw error;
  }
}

function requirePath(input: ExtractionInput): string {
  if (input.path === undefined) throw new TypeError('an extraction needs a path or bytes');
  return input.path;
}
