import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { VisitorDirectory } from './features/widget/visitor-directory.js';
import { registerVisitorRateLimits } from './features/widget/visitor-rate-limits.js';
import { VisitorTokenAuthenticator } from './features/widget/visitor-token-authenticator.js';
import { VisitorTokens } from './features/widget/visitor-tokens.js';
import { WidgetIdentityService } from './features/widget/widget-identity.service.js';
import { registerWidgetAssetRoutes } from './features/widget/widget-assets.routes.js';
import { registerWidgetKeyRoutes } from './features/widget/widget-keys.routes.js';
import { WidgetKeysService } from './features/widget/widget-keys.service.js';
import { WidgetOrigins } from './features/widget/widget-origins.js';
import { registerWidgetSessionRoutes } from './features/widget/widget-sessions.routes.js';
import { WidgetSessionsService } from './features/widget/widget-sessions.service.js';
import type { Idempotency } from './http/idempotency.js';
import type { RateLimiterStore } from './http/rate-limiter-store.js';
import type { Clock, IdGenerator } from './ids.js';
import { SecretBox } from './security/secret-box.js';
import type { ServerSecret } from './security/server-secret.js';
import type { Store } from './storage/store.js';

/** The chat widget's parts (docs/widget.md), built once per app. */
export interface Widget {
  /** For CORS: the origins widget keys allow. */
  origins: WidgetOrigins;
  /** Visitor tokens in `Authorization: Bearer`. */
  authenticator: VisitorTokenAuthenticator;
  widgetKeys: WidgetKeysService;
  /** Anonymous traffic's rate limits; after authentication, since they read the principal. */
  registerRateLimits(app: FastifyInstance): void;
  /** Its API routes, and its public files (`/widget.js`, `/widget/demo`). */
  registerRoutes(app: FastifyInstance, idempotency: Idempotency): void;
}

export function createWidget(input: {
  config: Config;
  store: Store;
  clock: Clock;
  newId: IdGenerator;
  secret: ServerSecret;
  /** Where anonymous traffic's limits count, with every other rate limit. */
  limits: RateLimiterStore;
}): Widget {
  const { config, store, clock, newId, secret, limits } = input;
  const settings = config.widget;
  const box = new SecretBox(secret);
  const cacheTtlMs = config.authCacheTtlMs;
  const directory = new VisitorDirectory({ store, clock, cacheTtlMs });
  const origins = new WidgetOrigins({ store, clock, cacheTtlMs });
  const tokens = new VisitorTokens({ secret, clock, newId, ttlSeconds: settings.tokenTtlSeconds });
  const widgetKeys = new WidgetKeysService({
    store,
    clock,
    newId,
    box,
    onChanged: () => {
      origins.forgetAll();
      directory.forgetAll();
    },
  });
  const renewalWindowSeconds = settings.renewalWindowSeconds;
  const sessions = new WidgetSessionsService({ store, clock, newId, tokens, directory, renewalWindowSeconds });
  const identity = new WidgetIdentityService({ store, clock, newId, box, directory });
  return {
    origins,
    authenticator: new VisitorTokenAuthenticator({ tokens, directory }),
    widgetKeys,
    registerRateLimits: (app) =>
      registerVisitorRateLimits(app, {
        perVisitor: limits.limiter('widget-visitor', settings.visitorRequestsPerMinute),
        perAddress: limits.limiter('widget-address', settings.visitorRequestsPerMinutePerIp),
      }),
    registerRoutes: (app, idempotency) => {
      registerWidgetKeyRoutes(app, { widgetKeys, idempotency });
      const sessionLimit = limits.limiter('widget-sessions', settings.sessionsPerMinutePerIp);
      registerWidgetSessionRoutes(app, { sessions, identity, sessionLimit });
      registerWidgetAssetRoutes(app, { demoKey: settings.demoKey });
    },
  };
}
