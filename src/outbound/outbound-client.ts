import type { LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { NO_OUTBOUND_ALLOWANCES, type OutboundAllowList } from './allow-list.js';
import { checkUrl } from './destination-policy.js';
import { OutboundError } from './outbound-error.js';
import { toOutboundError } from './outbound-failure.js';
import { createOutboundFetch, type OutboundFetch, type OutboundFetchLimits } from './outbound-fetch.js';
import { createPinnedConnector } from './pinned-connector.js';
import { nextHop, redirectLocation, type Hop } from './redirects.js';
import { discardBody, readCappedBody } from './response-body.js';

/**
 * The one way the server makes HTTP requests to the outside world (external tools,
 * `http_request`, OpenAPI documents fetched by URL, later MCP, URL ingestion and webhooks). See
 * docs/security.md ("Outbound requests") and docs/adr/0013-guarded-outbound-client.md; a static
 * test (test/unit/single-outbound-client.test.ts) keeps every other file of src/ off raw sockets.
 */
export interface OutboundLimits {
  /** Deadline of a whole request: connect, headers and body of every hop. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Largest response head (status line and headers). */
  readonly maxHeaderBytes: number;
  /** Redirects followed; one more is refused with `redirect_limit`. */
  readonly maxRedirects: number;
}

export const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = Object.freeze({
  // reliability.md T21: 10 s connect+read per tool call.
  timeoutMs: 10_000,
  maxResponseBytes: 10 * 1024 * 1024,
  // Node's own default for the server side (--max-http-header-size).
  maxHeaderBytes: 16 * 1024,
  maxRedirects: 5,
});

export interface OutboundRequest {
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly maxRedirects?: number;
  readonly signal?: AbortSignal;
  /** Further headers that carry credentials (an API key header), dropped on cross-origin redirects. */
  readonly credentialHeaders?: readonly string[];
}

export interface OutboundResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The URL that answered, after redirects. */
  readonly url: string;
  readonly redirects: number;
}

/** The streaming fetch's limits when none are given (MCP: long tool calls, quiet event streams). */
export const DEFAULT_FETCH_LIMITS: OutboundFetchLimits = Object.freeze({
  headersTimeoutMs: 60_000,
  idleTimeoutMs: 300_000,
  maxResponseBytes: 10 * 1024 * 1024,
  maxRedirects: 5,
});

export interface OutboundClient {
  /** Resolves with any HTTP status; rejects only with an OutboundError. */
  request(input: OutboundRequest): Promise<OutboundResponse>;
  /**
   * The same rules as a WHATWG fetch with a streaming body (outbound-fetch.ts), with
   * DEFAULT_FETCH_LIMITS: what the MCP SDK and OAuth clients are given as their `fetch`.
   */
  readonly fetch: OutboundFetch;
  /** A streaming fetch with other limits, on the same connections. */
  fetchWith(limits: Partial<OutboundFetchLimits>): OutboundFetch;
  /** The rules that need no DNS (scheme, host name, literal address, port, userinfo), for validating configuration; throws an OutboundError refusal. */
  checkUrl(url: string | URL): void;
  /** Closes pooled connections; requests after it fail. */
  close(): Promise<void>;
}

export interface OutboundClientOptions {
  readonly allow?: OutboundAllowList;
  /** How names are resolved (tests pass a stub resolver); `dns.lookup` when absent. */
  readonly lookup?: LookupFunction;
  readonly limits?: Partial<OutboundLimits>;
}

export function createOutboundClient(options: OutboundClientOptions = {}): OutboundClient {
  const allow = options.allow ?? NO_OUTBOUND_ALLOWANCES;
  const limits: OutboundLimits = { ...DEFAULT_OUTBOUND_LIMITS, ...options.limits };
  // An Agent of our own: undici's global dispatcher (and any proxy agent someone installs on it)
  // is never used, and undici reads no HTTP_PROXY/HTTPS_PROXY/NO_PROXY for a plain Agent.
  const agent = new Agent({
    connect: createPinnedConnector({ allow, lookup: options.lookup, connectTimeoutMs: limits.timeoutMs }),
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.timeoutMs,
    bodyTimeout: limits.timeoutMs,
  });
  const fetchWith = (fetchLimits: Partial<OutboundFetchLimits>) =>
    createOutboundFetch({ agent, allow, limits: { ...DEFAULT_FETCH_LIMITS, ...fetchLimits } });
  return {
    request: (input) => send({ agent, allow, limits, input }),
    fetch: fetchWith({}),
    fetchWith,
    checkUrl: (url) => void checkUrl(url, allow),
    close: () => agent.close(),
  };
}

async function send(context: {
  agent: Agent;
  allow: OutboundAllowList;
  limits: OutboundLimits;
  input: OutboundRequest;
}): Promise<OutboundResponse> {
  const { input, limits } = context;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new OutboundError('timeout')), input.timeoutMs ?? limits.timeoutMs);
  const signal = input.signal ? AbortSignal.any([input.signal, deadline.signal]) : deadline.signal;
  try {
    if (input.signal?.aborted) throw new OutboundError('aborted');
    return await followRedirects({ ...context, signal });
  } catch (error) {
    throw toOutboundError(error, { deadline: deadline.signal, caller: input.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function followRedirects(context: {
  agent: Agent;
  allow: OutboundAllowList;
  limits: OutboundLimits;
  input: OutboundRequest;
  signal: AbortSignal;
}): Promise<OutboundResponse> {
  const { agent, allow, input, signal } = context;
  const maxRedirects = input.maxRedirects ?? context.limits.maxRedirects;
  const maxBytes = input.maxResponseBytes ?? context.limits.maxResponseBytes;
  let hop = firstHop(input);
  for (let redirects = 0; ; redirects += 1) {
    const destination = checkUrl(hop.url, allow);
    const response = await agent.request({
      origin: destination.url.origin,
      path: `${destination.url.pathname}${destination.url.search}`,
      method: hop.method,
      headers: hop.headers,
      body: hop.body ?? null,
      signal,
    });
    const location = redirectLocation(response.statusCode, response.headers);
    if (location === undefined) {
      const body = await readCappedBody({
        body: response.body,
        contentLength: response.headers['content-length'],
        maxBytes,
      });
      return {
        status: response.statusCode,
        headers: joinHeaders(response.headers),
        body,
        url: hop.url.href,
        redirects,
      };
    }
    await discardBody(response.body, signal);
    if (redirects >= maxRedirects) throw new OutboundError('redirect_limit');
    hop = nextHop({ hop, status: response.statusCode, location, credentialHeaders: input.credentialHeaders ?? [] });
  }
}

function firstHop(input: OutboundRequest): Hop {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch (error) {
    throw new OutboundError('url', { cause: error });
  }
  const headers = Object.fromEntries(
    Object.entries(input.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  // The Host header is the URL's: one of the caller's own would send a checked connection to
  // another virtual host than the one the rules saw.
  if ('host' in headers) throw new OutboundError('invalid_request');
  return { method: input.method.toUpperCase(), url, headers, body: input.body };
}

function joinHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) joined[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return joined;
}
