import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '../errors.js';
import type { SseMessage, SseStream } from './sse.js';

/**
 * Writes events to the stream, each as the messages `toMessages` makes of it, until `until` says
 * the last one went out, the events end or the client leaves; then closes the stream. The headers
 * are sent by then, so an error becomes an in-band `error` event carrying the error code.
 */
export async function pumpEvents<Event>(input: {
  stream: SseStream;
  events: AsyncIterable<Event>;
  toMessages: (event: Event) => readonly SseMessage[];
  until: (event: Event) => boolean;
  log: FastifyBaseLogger;
}): Promise<void> {
  const { stream } = input;
  const events = input.events[Symbol.asyncIterator]();
  try {
    for (let next = await events.next(); !next.done; next = await events.next()) {
      stream.sendAll(input.toMessages(next.value));
      if (input.until(next.value)) break;
    }
  } catch (error) {
    // Like any 5xx, an unexpected failure is logged (with the request id) for the operator.
    if (!(error instanceof AppError) || error.status >= 500)
      input.log.error({ err: error }, 'stream failed after its headers were sent');
    stream.fail(error instanceof AppError ? error : new AppError('internal_error'));
  } finally {
    // Ends the source (a live subscription) whichever way the loop stopped.
    await events.return?.(undefined);
    stream.close();
  }
}
