import type { FastifyInstance } from 'fastify';
import { addressKey } from '../../http/auth-failure-limiter.js';
import { admit, type RateLimiter } from '../../http/rate-limiter.js';

/**
 * Anonymous traffic's own limits: every request a widget visitor makes spends one from the
 * visitor's budget (the token's subject) and one from its address's (so minting many sessions
 * from one address buys no more). Registered after authentication: it reads the principal.
 * API keys' requests are not counted here.
 */
export function registerVisitorRateLimits(
  app: FastifyInstance,
  limits: { perVisitor: RateLimiter; perAddress: RateLimiter },
): void {
  // Callback-style: requests that are not a visitor's pass without creating a promise.
  app.addHook('onRequest', (request, reply, done) => {
    const principal = request.principal;
    if (principal?.kind !== 'anonymous') return done();
    admit(reply, [
      { limiter: limits.perVisitor, key: principal.anonymousUserId },
      { limiter: limits.perAddress, key: addressKey(request.ip) },
    ]).then(() => done(), done);
  });
}
