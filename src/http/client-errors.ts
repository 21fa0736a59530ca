import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

/**
 * Requests Node's HTTP parser refuses before Fastify sees them — headers over the 16 KiB limit,
 * NUL or CR in a header, a malformed request line, a request not sent in time — are answered
 * here, on the raw socket, in the same envelope and with the same headers as every other error:
 * `{"detail","code","request_id"}` and `x-request-id`. The connection is then closed, as Node
 * itself does: after a parse error the rest of the bytes cannot be trusted.
 */
export function answerClientError(
  this: { log: FastifyBaseLogger },
  error: NodeJS.ErrnoException & { bytesParsed?: number },
  socket: Socket,
): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = errorCodeOf(error.code);
  this.log.debug({ err: error, code }, 'request refused by the HTTP parser');
  if (socket.writable && socket.bytesWritten === 0) socket.write(responseOf(code, randomUUID()));
  socket.destroy(error);
}

function errorCodeOf(parserCode: string | undefined): ErrorCode {
  switch (parserCode) {
    case 'HPE_HEADER_OVERFLOW':
      return 'headers_too_large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return 'request_timeout';
    default:
      return 'bad_request';
  }
}

/** The whole HTTP/1.1 response, as text: status line, headers, and the JSON envelope. */
export function responseOf(code: ErrorCode, requestId: string): string {
  const { status, message } = ERROR_CODES[code];
  const body = JSON.stringify({ detail: message, code, request_id: requestId });
  return [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'cache-control: no-store',
    'x-content-type-options: nosniff',
    'connection: close',
    '',
    body,
  ].join('\r\n');
}
