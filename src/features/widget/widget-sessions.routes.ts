import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { principalOf } from '../../http/auth.js';
import { addressKey } from '../../http/auth-failure-limiter.js';
import { admit, type RateLimiter } from '../../http/rate-limiter.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp } from '../../http/typed-app.js';
import type { WidgetIdentityService } from './widget-identity.service.js';
import type { WidgetSessionsService } from './widget-sessions.service.js';
import { IdentifiedVisitor, WidgetIdentify, WidgetSession, WidgetSessionCreate, WidgetUser } from './widget.schemas.js';

const common = { tags: ['widget'], 'x-parley-extension': true };

/** The routes a widget page calls itself: minting (or renewing) its session, and identifying its user. */
export function registerWidgetSessionRoutes(
  parent: FastifyInstance,
  dependencies: { sessions: WidgetSessionsService; identity: WidgetIdentityService; sessionLimit: RateLimiter },
): void {
  const app = typedApp(parent);
  const { sessions, identity, sessionLimit } = dependencies;
  for (const schema of [WidgetSessionCreate, WidgetSession, WidgetIdentify, WidgetUser, IdentifiedVisitor]) {
    app.addSchema(schema);
  }

  // Public: the publishable key in the body is the credential, and the page's Origin must be one it allows.
  app.post('/api/v1/widget/sessions', {
    config: { public: true, widgetOrigins: true },
    schema: {
      ...common,
      security: [],
      operationId: 'createWidgetSession',
      summary: 'Exchange a publishable widget key for a visitor token, or renew the current one',
      description:
        'Called by the widget page: the `Origin` header must be one of the key’s `allowed_origins`. Without `token`, a new anonymous visitor; with the current token, the same `anon_user_id` gets a new token and the old one stops working. See docs/widget.md.',
      body: Type.Ref(WidgetSessionCreate),
      response: { 200: Type.Ref(WidgetSession), ...errorResponses(401, 403, 429) },
    },
    handler: async (request, reply) => {
      await admit(reply, [{ limiter: sessionLimit, key: addressKey(request.ip) }]);
      const body = request.body as typeof WidgetSessionCreate.static;
      return sessions.start({
        widgetKey: body.widget_key,
        token: body.token,
        origin: request.headers.origin,
        ipAddress: request.ip,
      });
    },
  });

  app.post('/api/v1/widget/identify', {
    config: { scope: 'write', anonymous: true },
    schema: {
      ...common,
      operationId: 'identifyWidgetVisitor',
      summary: 'Link the visitor to a user of the host site, proven by user_hash',
      description:
        'With the visitor token. `user_hash` is the hex HMAC-SHA256 of `user_id` keyed with the widget key’s identity secret, computed by the host site’s server; only a valid one links the visitor, whose threads then follow the user across devices.',
      body: Type.Ref(WidgetIdentify),
      response: { 200: Type.Ref(IdentifiedVisitor), ...errorResponses(403, 409) },
    },
    handler: (request) => {
      const principal = principalOf(request);
      // An API key's user has no widget session to link.
      if (principal.kind !== 'anonymous') throw new AppError('insufficient_scope');
      const body = request.body as typeof WidgetIdentify.static;
      return identity.identify({
        principal,
        userId: body.user_id,
        name: body.name ?? null,
        email: body.email ?? null,
        userHash: body.user_hash,
        ipAddress: request.ip,
      });
    },
  });
}
