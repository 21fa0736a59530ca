import { parentPort } from 'node:worker_threads';
import { ExtractionError } from '../document.js';
import type { ExtractionReply, ExtractionRequest } from './extraction-protocol.js';
import { runExtraction } from './run-extraction.js';

/**
 * The entry of an extraction worker thread (ADR 0020): one job at a time, each answered with
 * exactly one reply. The thread's memory cap and deadline are set and enforced by
 * DocumentExtractor, which terminates it when either is passed.
 */
const port = parentPort;
if (port === null) throw new Error('extraction-worker.js runs as a worker thread only');

port.on('message', (request: ExtractionRequest) => {
  void answer(request).then((reply) => port.postMessage(reply));
});

async function answer(request: ExtractionRequest): Promise<ExtractionReply> {
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
