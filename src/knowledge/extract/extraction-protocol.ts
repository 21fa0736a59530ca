import type { ExtractedDocument } from '../document.js';
import type { ExtractionInput } from './run-extraction.js';

/**
 * The messages between DocumentExtractor (main thread) and extraction-worker.ts. Only plain
 * data crosses: an ExtractionError becomes `refused` with its user-facing message; any other
 * error becomes `failed`, with a detail for the log that is never shown to users.
 */
export interface ExtractionRequest {
  readonly input: ExtractionInput;
}

export type ExtractionReply =
  /** Posted once, when the worker's modules are loaded: a job's deadline starts there. */
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly document: ExtractedDocument }
  | { readonly type: 'refused'; readonly message: string; readonly detail: string | null }
  | { readonly type: 'failed'; readonly detail: string; readonly code: string | null };
