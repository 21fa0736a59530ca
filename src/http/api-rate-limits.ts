import type { FastifyInstance } from 'fastify';
import { admit, type RateLimiter } from './rate-limiter.js';

/**
 * Requests of API keys (and of the stream tokens they mint): each spends one from its key's
 * budget and one from its organisation's, so two keys of one organisation share the latter.
 * Registered after authentication, since it reads the principal: a request refused there (401,
 * 403) spends nothing, public routes (health, documentation) have no principal and are never
 * limited, and widget visitors have limits of their own (visitor-rate-limits.ts) rather than
 * spending the organisation's — a public page must not be able to use up its API budget.
 */
export function registerApiRateLimits(
  app: FastifyInstance,
  limits: { perKey: RateLimiter; perOrganization: RateLimiter },
): void {
  if (limits.perKey.limit === 0 && limits.perOrganization.limit === 0) return;
  // Callback-style: requests that are not an API key's pass without creating a promise.
  app.addHook('onRequest', (request, reply, done) => {
    const principal = request.principal;
    if (principal?.kind !== 'user') return done();
    admit(reply, [
      { limiter: limits.perKey, key: principal.keyId },
      { limiter: limits.perOrganization, key: principal.organizationId },
    ]).then(() => done(), done);
  });
}
