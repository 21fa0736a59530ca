import { ExtractionError } from '../document.js';
import type { ExtractionReply, ExtractionRequest } from './extraction-protocol.js';
import { runExtraction } from './run-extraction.js';

/** One job's one reply, as the worker thread posts it (extraction-protocol.ts). */
export async function answerExtraction(request: ExtractionRequest): Promise<ExtractionReply> {
  try {
    return { type: 'done', document: await runExtraction(request.input) };
  } catch (error) {
    if (error instanceof ExtractionError) {
      return { type: 'refused', message: error.message, detail: describe(error.cause) };
    }
    const code = (error as { code?: unknown }).code;
    return { type: 'failed', detail: describe(error) ?? 'unknown error', code: typeof code === 'string' ? code : null };
  }
}

function describe(error: unknown): string | null {
  if (error === undefined) return null;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
