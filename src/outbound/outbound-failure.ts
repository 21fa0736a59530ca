import { OutboundError } from './outbound-error.js';

/** undici's error codes (undici 7) as the outbound client's reasons; anything else is `connect`. */
const UNDICI_REASONS: Readonly<Record<string, OutboundError['reason']>> = {
  UND_ERR_HEADERS_OVERFLOW: 'headers_too_large',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'invalid_response',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'response_too_large',
  UND_ERR_INVALID_ARG: 'invalid_request',
  UND_ERR_NOT_SUPPORTED: 'invalid_request',
};

/**
 * What a failed request reports. Which signal fired decides first, whatever undici made of the
 * abort: the total deadline is `timeout`, the caller's signal `aborted`. Then the client's own
 * errors pass as they are, and undici's and the socket's are translated (HTTP parser errors,
 * `HPE_*`, mean the peer did not speak HTTP/1.1). The original is kept as `cause`.
 */
export function toOutboundError(
  error: unknown,
  signals: { deadline: AbortSignal; caller: AbortSignal | undefined },
): OutboundError {
  if (signals.deadline.aborted) return new OutboundError('timeout', { cause: error });
  if (signals.caller?.aborted) return new OutboundError('aborted', { cause: error });
  if (error instanceof OutboundError) return error;
  // undici 7's HTTPParserError carries the llhttp code in `code` only for some parser errors.
  if (error instanceof Error && error.name === 'HTTPParserError')
    return new OutboundError('invalid_response', { cause: error });
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string') {
    const reason = UNDICI_REASONS[code];
    if (reason) return new OutboundError(reason, { cause: error });
    if (code.startsWith('HPE_')) return new OutboundError('invalid_response', { cause: error });
  }
  return new OutboundError('connect', { cause: error });
}
