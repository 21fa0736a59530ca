import type { FastifyInstance } from 'fastify';
import { createWidget, type Widget } from './app-widget.js';
import type { Config } from './config.js';
import { ApiKeyAuthenticator } from './features/keys/api-key-authenticator.js';
import type { KeysService } from './features/keys/keys.service.js';
import { StreamTokenAuthenticator } from './features/stream-tokens/stream-token-authenticator.js';
import { registerStreamTokenRoutes } from './features/stream-tokens/stream-tokens.routes.js';
import type { StreamTokensService } from './features/stream-tokens/stream-tokens.service.js';
import { registerAuthentication } from './http/auth.js';
import { registerApiRateLimits } from './http/api-rate-limits.js';
import { AuthFailureLimiter } from './http/auth-failure-limiter.js';
import { registerCors } from './http/cors.js';
import type { Idempotency } from './http/idempotency.js';
import { createRateLimiterStore } from './http/rate-limiter-store.js';
import type { AppMetrics } from './observability/metrics.js';
import type { Clock, IdGenerator } from './ids.js';
import type { ServerSecret } from './security/server-secret.js';
import type { Store } from './storage/store.js';

/**
 * CORS, then authentication: preflights carry no credential. The chat widget takes part in both
 * (its origins, its visitor tokens) and limits its visitors after authentication; it is returned
 * for its routes. Then the rate limits of API keys and organisations. Every rate limit — those,
 * the widget's, authentication failures — counts in one store (memory, or Redis with REDIS_URL).
 */
export function registerAccess(
  app: FastifyInstance,
  input: {
    config: Config;
    clock: Clock;
    keys: KeysService;
    tokens: StreamTokensService;
    widget: { store: Store; newId: IdGenerator; secret: ServerSecret };
    /** Where `parley_redis_up` is reported when the limits count in Redis. */
    metrics?: AppMetrics | undefined;
  },
): Widget {
  const { config, clock, keys, tokens } = input;
  const settings = config.rateLimits;
  const redis =
    settings.redisUrl === undefined
      ? undefined
      : { url: settings.redisUrl, keyPrefix: settings.redisKeyPrefix, timeoutMs: settings.redisTimeoutMs };
  const limits = createRateLimiterStore({ redis, log: app.log });
  app.addHook('onClose', () => limits.close());
  if (limits.redisReady) input.metrics?.readOnScrape({ redisUp: limits.redisReady });
  const widget = createWidget({ config, clock, limits, ...input.widget });
  const failures =
    config.authFailureLimitPerMinute > 0
      ? new AuthFailureLimiter(limits.limiter('auth-failures', config.authFailureLimitPerMinute))
      : undefined;
  registerCors(app, config.corsOrigins, { widget: widget.origins });
  // In this order: a request with an x-api-key header is decided by its key, whatever its query
  // or Authorization header says; a stream token in the query, by that token.
  const authenticators = [
    new ApiKeyAuthenticator(keys),
    new StreamTokenAuthenticator({ tokens, keys }),
    widget.authenticator,
  ];
  registerAuthentication(app, authenticators, { failures });
  widget.registerRateLimits(app);
  registerApiRateLimits(app, {
    perKey: limits.limiter('key', settings.perKeyPerMinute),
    perOrganization: limits.limiter('organization', settings.perOrganizationPerMinute),
  });
  return widget;
}

/**
 * The routes that hand browsers a credential of their own instead of an API key: stream tokens
 * (a thread's EventSource) and the widget's sessions, with its key administration and identify.
 */
export function registerBrowserCredentialRoutes(
  app: FastifyInstance,
  input: { tokens: StreamTokensService; widget: Widget; idempotency: Idempotency },
): void {
  registerStreamTokenRoutes(app, { tokens: input.tokens });
  input.widget.registerRoutes(app, input.idempotency);
}
