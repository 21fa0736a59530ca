import type { Agent, Dispatcher } from 'undici';
import type { OutboundAllowList } from './allow-list.js';
import { checkUrl } from './destination-policy.js';
import { OutboundError } from './outbound-error.js';
import { toOutboundError } from './outbound-failure.js';
import { nextHop, redirectLocation, type Hop } from './redirects.js';
import { discardBody } from './response-body.js';

/**
 * The SDK's `FetchLike` (`@modelcontextprotocol/sdk/shared/transport.js`), spelled out here so
 * src/outbound/ does not depend on the SDK: a function of this type is assignable to it.
 */
export type OutboundFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Limits of one streaming response (see `createOutboundFetch`). */
export interface OutboundFetchLimits {
  /** From the request until the response head has arrived (every hop). */
  readonly headersTimeoutMs: number;
  /** Longest wait for the next chunk of a body while its reader waits; there is no total deadline. */
  readonly idleTimeoutMs: number;
  /** Bytes of one response body, counted as they stream; past it the body errors. */
  readonly maxResponseBytes: number;
  readonly maxRedirects: number;
}

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/**
 * A WHATWG-fetch-compatible function on the guarded client's own pinned Agent (ADR 0013): every
 * hop is checked against the destination rules before anything is sent and again on every DNS
 * answer inside the connect, redirects are followed here (`redirect: 'follow'`, the default: at
 * most `maxRedirects`, credentials dropped when the origin changes) or returned as they are
 * (`'manual'`: the SDK follows same-origin ones itself, through this function again). The
 * Response's body streams (server-sent events work): its bytes are counted against the cap, and
 * a reader waiting longer than `idleTimeoutMs` for the next chunk gets a timeout, so a quiet
 * event stream is bounded without a total deadline. The caller's signal aborts the request and
 * the body. Every failure, before or during the body, is an OutboundError.
 */
export function createOutboundFetch(context: {
  agent: Agent;
  allow: OutboundAllowList;
  limits: OutboundFetchLimits;
}): OutboundFetch {
  return async (input, init = {}) => {
    const caller = init.signal ?? undefined;
    const headersDeadline = new AbortController();
    const timer = setTimeout(
      () => headersDeadline.abort(new OutboundError('timeout')),
      context.limits.headersTimeoutMs,
    );
    const signal = caller ? AbortSignal.any([caller, headersDeadline.signal]) : headersDeadline.signal;
    try {
      if (caller?.aborted) throw new OutboundError('aborted');
      const { response, hop, redirects } = await sendHops({ ...context, hop: firstHop(input, init), init, signal });
      return toResponse({ response, url: hop.url, redirects, limits: context.limits, caller });
    } catch (error) {
      throw toOutboundError(error, { deadline: headersDeadline.signal, caller });
    } finally {
      clearTimeout(timer);
    }
  };
}

async function sendHops(input: {
  agent: Agent;
  allow: OutboundAllowList;
  limits: OutboundFetchLimits;
  hop: Hop;
  init: RequestInit;
  signal: AbortSignal;
}): Promise<{ response: Dispatcher.ResponseData; hop: Hop; redirects: number }> {
  const mode = input.init.redirect ?? 'follow';
  let hop = input.hop;
  for (let redirects = 0; ; redirects += 1) {
    const destination = checkUrl(hop.url, input.allow);
    const response = await input.agent.request({
      origin: destination.url.origin,
      path: `${destination.url.pathname}${destination.url.search}`,
      method: hop.method as Dispatcher.HttpMethod,
      headers: hop.headers,
      body: hop.body ?? null,
      signal: input.signal,
      // The body's own idle timer (below) replaces undici's, which would cut a quiet event stream.
      bodyTimeout: 0,
      headersTimeout: input.limits.headersTimeoutMs,
    });
    const location = redirectLocation(response.statusCode, response.headers);
    if (location === undefined || mode === 'manual') return { response, hop, redirects };
    await discardBody(response.body, input.signal);
    if (mode === 'error' || redirects >= input.limits.maxRedirects) throw new OutboundError('redirect_limit');
    hop = nextHop({ hop, status: response.statusCode, location, credentialHeaders: [] });
  }
}

function firstHop(input: string | URL, init: RequestInit): Hop {
  let url: URL;
  try {
    url = new URL(input instanceof URL ? input.href : input);
  } catch (error) {
    throw new OutboundError('url', { cause: error });
  }
  const headers: Record<string, string> = {};
  new Headers(init.headers ?? undefined).forEach((value, name) => (headers[name] = value));
  // The Host header is the URL's: one of the caller's own would send a checked connection to
  // another virtual host than the one the rules saw.
  if ('host' in headers) throw new OutboundError('invalid_request');
  const body = requestBody(init.body, headers);
  return { method: (init.method ?? 'GET').toUpperCase(), url, headers, body };
}

/** The bodies the MCP SDK and OAuth clients send: text, form parameters, bytes. Streams are not sent. */
function requestBody(body: RequestInit['body'], headers: Record<string, string>): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new OutboundError('invalid_request');
}

function toResponse(input: {
  response: Dispatcher.ResponseData;
  url: URL;
  redirects: number;
  limits: OutboundFetchLimits;
  caller: AbortSignal | undefined;
}): Response {
  const { response, limits } = input;
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const declared = Number(headers.get('content-length') ?? Number.NaN);
  if (declared > limits.maxResponseBytes) {
    response.body.destroy();
    throw new OutboundError('response_too_large');
  }
  const nullBody = NULL_BODY_STATUSES.has(response.statusCode);
  if (nullBody) response.body.destroy();
  const body = nullBody
    ? null
    : streamingBody(response.body, {
        maxBytes: limits.maxResponseBytes,
        idleTimeoutMs: limits.idleTimeoutMs,
        caller: input.caller,
      });
  const answer = new Response(body, { status: response.statusCode, headers });
  // What fetch reports: the URL that answered, and whether a redirect led there.
  Object.defineProperty(answer, 'url', { value: input.url.href });
  Object.defineProperty(answer, 'redirected', { value: input.redirects > 0 });
  return answer;
}

/**
 * The undici body as a web stream read on demand: each pull waits for one chunk, with the idle
 * timer running only while the reader waits (a reader that is slow is backpressure, not a quiet
 * server). Past the cap, on the idle timeout or the caller's abort, the undici body is destroyed
 * (closing its connection) and the stream errors with the OutboundError saying why.
 */
function streamingBody(
  body: Dispatcher.ResponseData['body'],
  options: { maxBytes: number; idleTimeoutMs: number; caller: AbortSignal | undefined },
): ReadableStream<Uint8Array> {
  // Errors reach the reader through the iterator; this keeps a destroyed body from also raising
  // an unhandled 'error' event when nobody is reading.
  body.on('error', () => undefined);
  const iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let size = 0;
  let failure: OutboundError | undefined;
  let idle: NodeJS.Timeout | undefined;
  const fail = (error: OutboundError) => {
    failure ??= error;
    body.destroy(error);
  };
  const onAbort = () => fail(new OutboundError('aborted'));
  const done = () => {
    clearTimeout(idle);
    options.caller?.removeEventListener('abort', onAbort);
  };
  if (options.caller?.aborted) onAbort();
  else options.caller?.addEventListener('abort', onAbort, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        idle = setTimeout(() => fail(new OutboundError('timeout')), options.idleTimeoutMs);
        try {
          const next = await iterator.next();
          clearTimeout(idle);
          if (failure) throw failure;
          if (next.done) {
            done();
            controller.close();
            return;
          }
          size += next.value.length;
          if (size > options.maxBytes) {
            fail(new OutboundError('response_too_large'));
            throw failure;
          }
          controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        } catch (error) {
          done();
          controller.error(
            failure ?? toOutboundError(error, { deadline: new AbortController().signal, caller: options.caller }),
          );
        }
      },
      cancel() {
        done();
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
