import { parentPort } from 'node:worker_threads';
import type { ExtractionReply } from './extraction-protocol.js';
import { answerExtraction } from './extraction-reply.js';

/**
 * The entry of an extraction worker thread (ADR 0020): one job at a time, each answered with
 * exactly one reply. The thread's memory cap and deadline are set and enforced by
 * DocumentExtractor, which terminates it when either is passed.
 */
const port = parentPort;
if (port === null) throw new Error('extraction-worker.js runs as a worker thread only');

port.on('message', (request: Parameters<typeof answerExtraction>[0]) => {
  void answerExtraction(request).then((reply) => port.postMessage(reply));
});
port.postMessage({ type: 'ready' } satisfies ExtractionReply);
