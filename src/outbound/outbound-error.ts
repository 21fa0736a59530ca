/**
 * Why the guarded outbound client refused a destination before any socket was opened to it.
 * `url`: not an absolute URL; `scheme`: not http/https; `host`: a name that only ever means this
 * machine or its private network (`localhost`, `*.internal`, a single label…); `address`: an IP
 * (literal, or one of the name's DNS answers) in a blocked range; `port`: not 80/443; `userinfo`:
 * credentials in the URL; `redirect_limit`: more redirects than allowed.
 */
export type OutboundRefusal = 'url' | 'scheme' | 'host' | 'address' | 'port' | 'userinfo' | 'redirect_limit';

/**
 * Why an allowed request failed: `dns` (the name did not resolve to usable addresses), `connect`
 * (refused, reset, TLS), `timeout` (the request's total deadline), `aborted` (the caller's signal),
 * `response_too_large` / `headers_too_large` (a cap was reached), `invalid_response` (not HTTP),
 * `invalid_request` (what the caller asked to send cannot be sent, e.g. a header with CR/LF).
 */
export type OutboundFailure =
  | 'invalid_request'
  | 'dns'
  | 'connect'
  | 'timeout'
  | 'aborted'
  | 'response_too_large'
  | 'headers_too_large'
  | 'invalid_response';

export type OutboundReason = OutboundRefusal | OutboundFailure;

const REFUSALS: ReadonlySet<OutboundReason> = new Set<OutboundRefusal>([
  'url',
  'scheme',
  'host',
  'address',
  'port',
  'userinfo',
  'redirect_limit',
]);

/**
 * The one error of the outbound client. Its message is constant per reason
 * (`outbound_blocked: address`, `outbound_failed: timeout`) so a caller can hand it to a model or
 * a client as it is: it never carries the socket error's text, the resolved address or the
 * upstream's banner. The underlying error, if any, is kept as `cause` for the server's own logs.
 */
export class OutboundError extends Error {
  readonly reason: OutboundReason;
  /** True for refusals (nothing was sent), false for failures of an allowed request. */
  readonly blocked: boolean;

  constructor(reason: OutboundReason, options?: { cause?: unknown }) {
    const blocked = REFUSALS.has(reason);
    super(`${blocked ? 'outbound_blocked' : 'outbound_failed'}: ${reason}`, options);
    this.name = 'OutboundError';
    this.reason = reason;
    this.blocked = blocked;
  }
}
