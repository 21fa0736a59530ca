import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

/**
 * Cross-origin requests from browsers. Off unless `CORS_ORIGINS` names origins: then a request
 * whose `Origin` is one of them (or any, for `*`) gets `Access-Control-Allow-Origin`, and its
 * preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 here, before
 * authentication — a browser never sends the API key on a preflight. A preflight from an origin
 * not allowed gets 204 without the allow headers, so the browser refuses the request it announced.
 * No cookie or other ambient credential is ever honoured, so `Allow-Credentials` is never sent.
 *
 * The chat widget's origins (docs/widget.md) are answered besides, and only on the routes a
 * widget visitor may call: those whose config says `anonymous: true` (the chat routes a visitor
 * token opens) or `widgetOrigins: true` (the widget's own routes). There an origin is allowed when
 * `widget` says an active widget key of the agent in the path allows it (of any agent, on the
 * widget's own routes, whose path names none). Every other route — what only API keys reach —
 * never answers a widget origin.
 */
export type CorsOrigins = readonly string[] | '*';

/** Whether a widget key allows `origin` on a visitor route of `agentId` (null: the widget's own routes). */
export interface WidgetOriginPolicy {
  allows(input: { origin: string; agentId: string | null }): boolean | Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A widget route without a credential of its own (minting a session): answers widget origins. */
    widgetOrigins?: boolean;
  }
}

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'x-api-key, content-type, idempotency-key, last-event-id, accept';
/** A visitor's token comes in `Authorization: Bearer`. */
const VISITOR_ALLOWED_HEADERS = `${ALLOWED_HEADERS}, authorization`;
/**
 * Response headers a browser script may read besides the CORS-safelisted ones; the rate-limit
 * fields too, so a page can slow down before it is refused (docs/security.md).
 */
const EXPOSED_HEADERS = 'x-request-id, retry-after, allow, ratelimit-limit, ratelimit-remaining, ratelimit-reset';
const PREFLIGHT_MAX_AGE_SECONDS = '600';
const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

export function registerCors(
  app: FastifyInstance,
  origins: CorsOrigins,
  options: { widget?: WidgetOriginPolicy | undefined } = {},
): void {
  const { widget } = options;
  if (origins !== '*' && origins.length === 0 && widget === undefined) return;
  const allowed = origins === '*' ? null : new Set(origins);
  const configured = origins === '*' || origins.length > 0;
  const visitorRoutes = new VisitorRoutes();
  app.addHook('onRoute', (route) => visitorRoutes.add(route));

  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    const globally = configured && (allowed === null || allowed.has(origin));
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    const visitor = preflight ? visitorRoutes.find(request) : visitorRouteOf(request);
    const answer = (widgetAllows: boolean) => {
      if (preflight) {
        const wildcard = globally && allowed === null;
        return answerPreflight(reply, { origin, wildcard, allow: globally || widgetAllows, visitor: visitor !== null });
      }
      if ((configured && allowed !== null) || visitor !== null) reply.header('vary', 'Origin');
      if (globally || widgetAllows) {
        reply.header('access-control-allow-origin', globally && allowed === null ? '*' : origin);
        reply.header('access-control-expose-headers', EXPOSED_HEADERS);
      }
      done();
    };
    // With CORS_ORIGINS unset, a route no widget origin may call is left as it is: a preflight
    // goes on to authentication (a 401 without CORS headers), a request gets no CORS header.
    if (!configured && visitor === null) return done();
    if (globally || visitor === null || widget === undefined) return answer(false);
    const decided = widget.allows({ origin, agentId: visitor.agentId });
    if (decided instanceof Promise) decided.then(answer, done);
    else answer(decided);
  });
}

function answerPreflight(
  reply: FastifyReply,
  input: { origin: string; wildcard: boolean; allow: boolean; visitor: boolean },
): void {
  reply.header('vary', PREFLIGHT_VARY);
  if (input.allow) {
    reply.header('access-control-allow-origin', input.wildcard ? '*' : input.origin);
    reply.header('access-control-allow-methods', ALLOWED_METHODS);
    reply.header('access-control-allow-headers', input.visitor ? VISITOR_ALLOWED_HEADERS : ALLOWED_HEADERS);
    reply.header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
  }
  // Answered here: the hooks after this one (authentication) never see a preflight.
  void reply.code(204).send();
}

/** The visitor route a request was routed to, with the agent in its path; null for any other route. */
function visitorRouteOf(request: FastifyRequest): { agentId: string | null } | null {
  const config = request.routeOptions.config as { anonymous?: boolean; widgetOrigins?: boolean } | undefined;
  if (config?.anonymous !== true && config?.widgetOrigins !== true) return null;
  const agentId = (request.params as { agent_id?: unknown } | undefined)?.agent_id;
  return { agentId: typeof agentId === 'string' ? agentId : null };
}

/**
 * The routes that answer widget origins, to match a preflight against: a preflight is routed to
 * no route of ours (it is an OPTIONS request), so the route it announces — its path and
 * `Access-Control-Request-Method` — is found here.
 */
class VisitorRoutes {
  readonly #routes: { methods: string[]; pattern: RegExp; params: string[] }[] = [];

  add(route: RouteOptions): void {
    const config = route.config as { anonymous?: boolean; widgetOrigins?: boolean } | undefined;
    if (config?.anonymous !== true && config?.widgetOrigins !== true) return;
    const params: string[] = [];
    const source = route.url
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    this.#routes.push({ methods, pattern: new RegExp(`^${source}$`), params });
  }

  find(request: FastifyRequest): { agentId: string | null } | null {
    const method = String(request.headers['access-control-request-method']).toUpperCase();
    const path = request.url.split('?')[0] ?? '';
    for (const route of this.#routes) {
      if (!route.methods.includes(method)) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const index = route.params.indexOf('agent_id');
      if (index === -1) return { agentId: null };
      const agentId = decoded(match[index + 1]!);
      // A path the router could not route either: no widget origin is allowed on it.
      return agentId === undefined ? null : { agentId };
    }
    return null;
  }
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
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
