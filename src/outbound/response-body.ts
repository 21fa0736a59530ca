import type { Dispatcher } from 'undici';
import { OutboundError } from './outbound-error.js';

type ResponseBody = Dispatcher.ResponseData['body'];

/** How much of a redirect's own body is read (so its connection can be reused) before it is cut off. */
const REDIRECT_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Reads a response body into memory up to `maxBytes`. A declared Content-Length over the cap is
 * refused before reading; otherwise the stream is counted as it arrives and destroyed (which
 * closes the connection) the moment it passes the cap, so a 50 MiB answer costs at most the cap.
 */
export async function readCappedBody(input: {
  body: ResponseBody;
  contentLength: string | string[] | undefined;
  maxBytes: number;
}): Promise<Buffer> {
  const { body, maxBytes } = input;
  const declared = typeof input.contentLength === 'string' ? Number(input.contentLength) : Number.NaN;
  if (declared > maxBytes) {
    await discardBody(body);
    throw new OutboundError('response_too_large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (the throw) destroys the stream: that is what stops the transfer.
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new OutboundError('response_too_large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * A body that is not wanted (a redirect's, or one refused for its declared size): undici's
 * `dump` reads a little of it, so a short body leaves the connection reusable, and destroys the
 * rest, so an endless one costs nothing. It ends the stream without an error of its own.
 */
export async function discardBody(body: ResponseBody, signal?: AbortSignal): Promise<void> {
  await body.dump({ limit: REDIRECT_BODY_LIMIT_BYTES, ...(signal ? { signal } : {}) });
}
