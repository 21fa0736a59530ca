import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { AppError } from '../errors.js';
import type { Scope } from '../domain/models.js';
import type { ThreadVisitor } from '../domain/widget.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a credential. Only health, readiness, metrics and the API documentation are. */
    public?: boolean;
    /** The scope a caller needs for this route. Every non-public route must declare one. */
    scope?: Scope;
    /**
     * Also accepts a stream token in `?token=` for the thread in the path (a browser's
     * EventSource cannot send headers). Only the follow route says so; anywhere else `?token=`
     * is not a credential.
     */
    streamToken?: boolean;
    /**
     * Also admits an anonymous end user (a widget visitor's token). Deny by default: an anonymous
     * principal on any route that does not say so gets 403, so the admin and list-everything
     * routes need no check of their own. The handler still scopes what the visitor sees to their
     * own threads.
     */
    anonymous?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * Who is calling, as an authenticator established it from a credential — never from anything
 * else in the request. A discriminated union rather than a nullable user id, so code that acts
 * for a user of the organisation (creating keys, owning threads) cannot be handed an anonymous
 * end user by mistake: it has to narrow, or use `userPrincipalOf`.
 */
export type Principal = UserPrincipal | AnonymousPrincipal;

interface PrincipalBase {
  organizationId: string;
  scopes: readonly Scope[];
  /**
   * Set when the credential works with one agent only (a publishable widget key); the routes
   * that admit such callers check it. Undefined for an organisation-wide credential.
   */
  agentId?: string | undefined;
}

/** A user of the organisation, through one of their API keys. */
export interface UserPrincipal extends PrincipalBase {
  kind: 'user';
  userId: string;
  keyId: string;
}

/** A browser end user of the chat widget: the subject of a signed anonymous-user token. */
export interface AnonymousPrincipal extends PrincipalBase {
  kind: 'anonymous';
  anonymousUserId: string;
  /** The identified widget user the visitor was linked to (their history on other devices), if any. */
  widgetUserId?: string | null | undefined;
  /** The widget key that minted the visitor's session. */
  widgetKeyId?: string | undefined;
  /** The page origin the visitor's token was minted for: the only one it is accepted from. */
  origin?: string | undefined;
}

/**
 * One kind of credential. `authenticate` answers, for one request:
 * - `null`: no credential of this kind is present (the next authenticator is asked);
 * - a `Principal`: the credential is valid and was verified recently — the synchronous path, so a
 *   request with a cached credential creates no promise;
 * - a `Promise<Principal>`: the credential must be checked first (a database look-up);
 * - or throws (or rejects with) a 401 for a credential of its kind that is malformed, unknown,
 *   revoked or expired: `invalid_api_key`, one answer for all so callers learn nothing, or
 *   `invalid_stream_token`, which tells an expired token from any other fault.
 */
export interface Authenticator {
  authenticate(request: FastifyRequest): Principal | Promise<Principal> | null;
}

/** `admin` includes `write`, which includes `read`. */
const SCOPE_RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

export function hasScope(granted: readonly Scope[], needed: Scope): boolean {
  return granted.some((scope) => SCOPE_RANK[scope] >= SCOPE_RANK[needed]);
}

/**
 * Authentication is one global hook, deny by default: a route is open only when its config says
 * `public: true`, and every other route — including unknown paths — needs a credential that one
 * of the authenticators accepts. The first authenticator that finds its kind of credential
 * decides; with none found the answer is 401. No other header (forwarded-for, "internal"
 * markers) changes this. An address that has failed too often (`failures`) gets 429 before any
 * authenticator is asked.
 */
export function registerAuthentication(
  app: FastifyInstance,
  authenticators: readonly Authenticator[],
  options: { failures?: AuthFailureLimiter | undefined } = {},
): void {
  app.decorateRequest('principal', null);
  requireDeclaredAccess(app);
  const { failures } = options;

  // Callback-style, with a synchronous path for credentials verified recently: without a
  // failure limit most requests never create a promise here, and with one, a single counter read.
  app.addHook('onRequest', (request, _reply, done) => {
    const config = request.routeOptions.config as { public?: boolean; scope?: Scope; anonymous?: boolean } | undefined;
    if (config?.public) return done();
    if (failures === undefined) return authenticate(request, { authenticators, config, done });
    const admitOrRefuse = (retryAfter: number) => {
      if (retryAfter === 0) return authenticate(request, { authenticators, config, failures, done });
      done(new AppError('too_many_auth_failures', { headers: { 'retry-after': String(retryAfter) } }));
    };
    // Counted in memory: answered at once, without a promise per request.
    const known = failures.retryAfterSecondsNow(request.ip);
    if (known !== undefined) return admitOrRefuse(known);
    failures.retryAfterSeconds(request.ip).then(admitOrRefuse, done);
  });
}

/** Finds the principal and admits it to the route, or refuses: every 401 counts as a failure of the address. */
function authenticate(
  request: FastifyRequest,
  input: {
    authenticators: readonly Authenticator[];
    config: { scope?: Scope; anonymous?: boolean } | undefined;
    failures?: AuthFailureLimiter;
    done: (error?: Error) => void;
  },
): void {
  const { config, failures, done } = input;
  // Unknown paths have no route config: any valid credential may learn that they do not exist.
  const needed = config?.scope ?? 'read';
  const admit = (principal: Principal) => {
    request.principal = principal;
    done(admission(request, principal, needed, config?.anonymous === true));
  };
  const refuse = (error: unknown) => {
    if (!(failures && error instanceof AppError && error.status === 401)) return done(error as Error);
    // Counted before the answer leaves, so the client's next attempt already sees this one.
    failures.recordFailure(request.ip).then(
      () => done(error),
      (recordError: unknown) => {
        request.log.error({ err: recordError }, 'could not count a failed authentication');
        done(error);
      },
    );
  };
  let found: Principal | Promise<Principal> | null;
  try {
    found = identify(request, input.authenticators);
  } catch (error) {
    return refuse(error);
  }
  if (found === null) return refuse(new AppError('invalid_api_key'));
  if (found instanceof Promise) found.then(admit, refuse);
  else admit(found);
}

/**
 * Why an authenticated principal may not call this route, or undefined when it may: the scope,
 * then for an anonymous end user the route's consent, then for a credential bound to one agent
 * the `agent_id` in the path — another agent's routes answer 404 as if it did not exist.
 */
function admission(
  request: FastifyRequest,
  principal: Principal,
  needed: Scope,
  admitsAnonymous: boolean,
): AppError | undefined {
  if (!hasScope(principal.scopes, needed)) return new AppError('insufficient_scope');
  if (principal.kind === 'anonymous' && !admitsAnonymous) return new AppError('insufficient_scope');
  const agentInPath = (request.params as { agent_id?: unknown } | undefined)?.agent_id;
  if (principal.agentId !== undefined && agentInPath !== undefined && agentInPath !== principal.agentId) {
    return new AppError('agent_not_found');
  }
  return undefined;
}

function identify(
  request: FastifyRequest,
  authenticators: readonly Authenticator[],
): Principal | Promise<Principal> | null {
  for (const authenticator of authenticators) {
    const found = authenticator.authenticate(request);
    if (found !== null) return found;
  }
  return null;
}

/**
 * Every route must declare a scope or public access. Checked once the app is ready rather than
 * as each route is added: a plugin's own `onRoute` hook (the documentation UI's, which marks its
 * routes public) runs after this app-wide one.
 */
function requireDeclaredAccess(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  app.addHook('onReady', (done) => {
    const undeclared = routes.find((route) => {
      const config = route.config as { public?: boolean; scope?: Scope } | undefined;
      return !config?.public && !config?.scope;
    });
    routes.length = 0;
    done(
      undeclared
        ? new Error(`Route ${String(undeclared.method)} ${undeclared.url} declares neither a scope nor public access`)
        : undefined,
    );
  });
}

/** The caller of an authenticated route. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new AppError('invalid_api_key');
  return request.principal;
}

/**
 * The widget visitor a request acts for, by whose threads what it sees is limited; null for a
 * user of the organisation, who sees every thread of the agent.
 */
export function visitorOf(principal: Principal): ThreadVisitor | null {
  return principal.kind === 'anonymous'
    ? { anonymousUserId: principal.anonymousUserId, widgetUserId: principal.widgetUserId ?? null }
    : null;
}

/** The caller of a route that acts for a user of the organisation; anonymous end users get 403. */
export function userPrincipalOf(request: FastifyRequest): UserPrincipal {
  const principal = principalOf(request);
  if (principal.kind !== 'user') throw new AppError('insufficient_scope');
  return principal;
}
