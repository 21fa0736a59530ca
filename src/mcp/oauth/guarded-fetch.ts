import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';

/** Statuses whose response has no body (the Response constructor refuses one). */
const NO_BODY = new Set([204, 205, 304]);

/**
 * The guarded outbound client as the fetch the SDK's auth helpers take, for the OAuth layer's
 * own small requests (metadata, registration, token, revocation): buffered, capped, every hop
 * checked (docs/security.md, "Outbound requests"). With `redirect: 'manual'` (what the SDK asks
 * for) no redirect is followed: the guarded client refuses it (`redirect_limit`), so a token or
 * registration request never lands anywhere but the endpoint the metadata names.
 * MCP traffic itself streams, and uses the streaming guarded fetch the connection code is given.
 */
export function guardedFetch(outbound: OutboundClient): FetchLike {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
    const body = requestBody(init?.body);
    const response = await outbound.request({
      method: init?.method ?? 'GET',
      url,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(init?.signal ? { signal: init.signal } : {}),
      ...(init?.redirect === 'manual' || init?.redirect === 'error' ? { maxRedirects: 0 } : {}),
    });
    const status = response.status < 200 ? 502 : response.status;
    return new Response(NO_BODY.has(status) ? null : new Uint8Array(response.body), {
      status,
      headers: response.headers,
    });
  };
}

function requestBody(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('The OAuth fetch sends only string, form or byte bodies');
}
