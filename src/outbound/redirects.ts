import { OutboundError } from './outbound-error.js';

/** One request of a chain of redirects: what is sent to `url`. */
export interface Hop {
  readonly method: string;
  readonly url: URL;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array | undefined;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that carry credentials, dropped when a redirect leaves the origin they were meant for. */
const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie'];

/** Headers that describe the body, dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS: readonly string[] = ['content-type', 'content-length', 'content-encoding', 'content-language'];

/** The Location of a redirect answer, or undefined if the answer is to be returned as it is. */
export function redirectLocation(status: number, headers: Record<string, string | string[] | undefined>) {
  if (!REDIRECT_STATUSES.has(status)) return undefined;
  const location = headers.location;
  return Array.isArray(location) ? location[0] : location;
}

/**
 * The next request of a redirect chain, as the Fetch standard makes it: 303 becomes a GET (HEAD
 * stays HEAD), so do 301/302 after a POST; 307/308 repeat the method and body. Leaving the
 * origin drops `Authorization`, `Proxy-Authorization`, `Cookie` and the caller's own credential
 * headers (an API key header of an external tool), so a redirect cannot hand them to another host.
 */
export function nextHop(input: {
  hop: Hop;
  status: number;
  location: string;
  credentialHeaders: readonly string[];
}): Hop {
  const { hop, status } = input;
  let url: URL;
  try {
    url = new URL(input.location, hop.url);
  } catch (error) {
    throw new OutboundError('url', { cause: error });
  }
  const becomesGet =
    status === 303 ? hop.method !== 'HEAD' : (status === 301 || status === 302) && hop.method === 'POST';
  const dropped = new Set<string>();
  if (becomesGet) BODY_HEADERS.forEach((name) => dropped.add(name));
  if (url.origin !== hop.url.origin) {
    [...CREDENTIAL_HEADERS, ...input.credentialHeaders].forEach((name) => dropped.add(name.toLowerCase()));
  }
  const headers = Object.fromEntries(Object.entries(hop.headers).filter(([name]) => !dropped.has(name)));
  return {
    method: becomesGet ? 'GET' : hop.method,
    url,
    headers,
    body: becomesGet ? undefined : hop.body,
  };
}
