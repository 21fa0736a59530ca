import type { FastifyRequest } from 'fastify';

/**
 * Query parameters that carry a credential: a stream token (`?token=`) opens a thread's stream
 * for minutes, so it must not be readable in a log. API keys are never taken from a query string,
 * but a client that puts one there anyway gets it left out too. An MCP sign-in's callback carries
 * an authorization `code` and its `state`: short-lived and single use, but credentials until used.
 */
const CREDENTIAL_PARAMETERS = /([?&](?:token|api_key|x-api-key|code|state)=)[^&#]*/gi;

/** The URL with the values of credential query parameters replaced by `[redacted]`. */
export function urlForLogs(url: string): string {
  return url.includes('?') ? url.replace(CREDENTIAL_PARAMETERS, '$1[redacted]') : url;
}

/**
 * The `req` log serializer: Fastify's own fields (its `asReqValue`), with the URL redacted. Request
 * lines are off (see `registerRequestHooks`), but anything that logs `{ req: request }` — Fastify
 * does for a 5xx when request logging is on — goes through this.
 */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: urlForLogs(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
