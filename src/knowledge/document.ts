/**
 * What extraction makes of a file or a page, and what chunking and indexing take: the shared
 * vocabulary of the knowledge pipeline (docs/knowledge.md).
 *
 *   bytes ──detect (file-type.ts)──► kind ──extract (extract/, a worker thread)──► ExtractedDocument
 *         ──chunk (chunk.ts)──► DocumentChunk[] ──index (file-chunks store)──► search
 */

/** The kinds of document Parley indexes; the kind is decided from the bytes, never the client's label. */
export type DocumentKind = 'pdf' | 'docx' | 'xlsx' | 'pptx' | 'text' | 'markdown' | 'html' | 'csv' | 'json';

/**
 * One block of text in reading order (a paragraph, a list, a table row group, a CSV record…),
 * with the headings it sits under, outermost first, and the page it is on (PDF, and slides for
 * PPTX; null where a format has no pages). Chunking keeps blocks whole where it can and never
 * joins blocks with different heading paths into one chunk.
 */
export interface DocumentSection {
  readonly headingPath: readonly string[];
  readonly page: number | null;
  readonly text: string;
}

export interface ExtractedDocument {
  /** The document's own title (PDF info, HTML `<title>`, the first heading), when it has one. */
  readonly title: string | null;
  readonly sections: readonly DocumentSection[];
  /** Pages (PDF) or slides (PPTX) or sheets (XLSX); null for formats without them. */
  readonly pageCount: number | null;
}

/**
 * Extraction could not produce text, for a reason a user can act on: `message` becomes the
 * file's `error_message` as is (e.g. "no text layer (OCR needed)"), so it names the problem in
 * plain words and never includes a path, a stack or a library's internals.
 */
export class ExtractionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtractionError';
  }
}

/** A passage ready to index: whole blocks (or a block's pieces), token-sized, with overlap. */
export interface DocumentChunk {
  readonly text: string;
  readonly headingPath: readonly string[];
  readonly page: number | null;
  /** Estimated tokens (see chunk.ts for how they are counted). */
  readonly tokenCount: number;
}
