import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Cross-origin requests from browsers. Off unless `CORS_ORIGINS` names origins: then a request
 * whose `Origin` is one of them (or any, for `*`) gets `Access-Control-Allow-Origin`, and its
 * preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 here, before
 * authentication — a browser never sends the API key on a preflight. A preflight from an origin
 * not allowed gets 204 without the allow headers, so the browser refuses the request it announced.
 * No cookie or other ambient credential is ever honoured, so `Allow-Credentials` is never sent.
 */
export type CorsOrigins = readonly string[] | '*';

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'x-api-key, content-type, idempotency-key, last-event-id, accept';
/** Response headers a browser script may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'x-request-id, retry-after, allow';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function registerCors(app: FastifyInstance, origins: CorsOrigins): void {
  if (origins !== '*' && origins.length === 0) return;
  const allowed = origins === '*' ? null : new Set(origins);
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    const allow = allowed === null || allowed.has(origin);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      reply.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      if (allow) {
        reply.header('access-control-allow-origin', allowed === null ? '*' : origin);
        reply.header('access-control-allow-methods', ALLOWED_METHODS);
        reply.header('access-control-allow-headers', ALLOWED_HEADERS);
        reply.header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
      }
      // Answered here: the hooks after this one (authentication) never see a preflight.
      void reply.code(204).send();
      return;
    }
    if (allowed !== null) reply.header('vary', 'Origin');
    if (allow) {
      reply.header('access-control-allow-origin', allowed === null ? '*' : origin);
      reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    }
    done();
  });
}

/**
 * The CORS headers already set on `reply`, for a response written on the raw socket (an SSE
 * stream hijacks the reply, so Fastify's own headers are not sent for it).
 */
export function corsHeadersOf(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['access-control-allow-origin', 'access-control-expose-headers', 'vary']) {
    const value = reply.getHeader(name);
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
