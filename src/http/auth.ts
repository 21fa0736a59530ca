import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Scope } from '../domain/models.js';
import { hasScope, type KeysService, type Principal } from '../features/keys/keys.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a key. Only health, readiness and the API documentation are. */
    public?: boolean;
    /** The scope a key needs for this route. Every non-public route must declare one. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * Authentication is one global hook, deny by default: a route is open only when it says so, and
 * every other route — including unknown paths — needs a valid `x-api-key` header. Keys in the
 * query string are never read. No other header (forwarded-for, "internal" markers) changes this.
 */
export function registerAuthentication(
  app: FastifyInstance,
  keys: KeysService,
  options: { publicPrefixes: readonly string[] },
): void {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    // Routes added by plugins under a reviewed prefix (the API reference UI) are public.
    if (options.publicPrefixes.some((prefix) => route.url === prefix || route.url.startsWith(`${prefix}/`))) {
      route.config = { ...(route.config as object), public: true };
    }
    const config = route.config as { public?: boolean; scope?: Scope } | undefined;
    if (!config?.public && !config?.scope) {
      throw new Error(`Route ${String(route.method)} ${route.url} declares neither a scope nor public access`);
    }
  });

  // Callback-style with a synchronous path for keys verified recently: most requests never
  // create a promise here.
  app.addHook('onRequest', (request, _reply, done) => {
    const config = request.routeOptions.config as { public?: boolean; scope?: Scope } | undefined;
    if (config?.public) return done();
    // Unknown paths have no route config: any valid key may learn that they do not exist.
    const needed = config?.scope ?? 'read';
    const header = request.headers['x-api-key'];
    const presented = typeof header === 'string' ? header : undefined;
    const admit = (principal: Principal) => {
      request.principal = principal;
      done(hasScope(principal.scopes, needed) ? undefined : new AppError('insufficient_scope'));
    };
    let cached: Principal | undefined;
    try {
      cached = keys.authenticateFromCache(presented);
    } catch (error) {
      return done(error as Error);
    }
    if (cached) return admit(cached);
    keys.authenticate(presented).then(admit, done);
  });
}

/** The caller of an authenticated route. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new AppError('invalid_api_key');
  return request.principal;
}
