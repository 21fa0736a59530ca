import type { FastifyInstance } from 'fastify';
import { addressKey } from '../../http/auth-failure-limiter.js';
import { admit, type RateLimiter } from '../../http/rate-limiter.js';

/**
 * Anonymous traffic's own limits: every request a widget visitor makes spends one from the
 * visitor's bucket (the token's subject) and one from its address's (so minting many sessions
 * from one address buys no more). Registered after authentication: it reads the principal.
 * API keys' requests are not counted here.
 */
export function registerVisitorRateLimits(
  app: FastifyInstance,
  limits: { perVisitor: RateLimiter; perAddress: RateLimiter },
): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const principal = request.principal;
    if (principal?.kind !== 'anonymous') return done();
    try {
      admit(limits.perVisitor, principal.anonymousUserId);
      admit(limits.perAddress, addressKey(request.ip));
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
