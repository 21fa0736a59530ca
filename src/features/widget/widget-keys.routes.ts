import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf, userPrincipalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import type { WidgetKeysService } from './widget-keys.service.js';
import { WidgetKey, WidgetKeyCreate, WidgetKeyCreated, WidgetKeyListQuery, WidgetKeyParams } from './widget.schemas.js';

const common = { tags: ['widget'], 'x-parley-extension': true };

/** The admin routes of widget keys (docs/widget.md): only admin API keys reach them, never a visitor. */
type WidgetKeyRoutesDependencies = { widgetKeys: WidgetKeysService; idempotency: Idempotency };

export function registerWidgetKeyRoutes(parent: FastifyInstance, dependencies: WidgetKeyRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [WidgetKey, WidgetKeyCreate, WidgetKeyCreated]) app.addSchema(schema);
  registerWidgetKeyCollectionRoutes(app, dependencies);
  registerWidgetKeyItemRoutes(app, dependencies);
}

function registerWidgetKeyCollectionRoutes(app: TypedApp, dependencies: WidgetKeyRoutesDependencies): void {
  const { widgetKeys, idempotency } = dependencies;

  app.post('/api/v1/widget-keys', {
    config: { scope: 'admin', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      ...common,
      operationId: 'createWidgetKey',
      summary: 'Create a publishable widget key for one agent (its secrets are shown once)',
      body: Type.Ref(WidgetKeyCreate),
      response: { 200: Type.Ref(WidgetKeyCreated), ...errorResponses(404, 409) },
    },
    handler: (request, reply) => {
      const principal = userPrincipalOf(request);
      const body = request.body as typeof WidgetKeyCreate.static;
      return idempotency.send(request, reply, (claim) =>
        widgetKeys.create({
          organizationId: principal.organizationId,
          agentId: body.agent_id,
          name: body.name,
          allowedOrigins: body.allowed_origins,
          createdByUserId: principal.userId,
          idempotency: claim,
        }),
      );
    },
  });

  app.get('/api/v1/widget-keys', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'listWidgetKeys',
      summary: 'List the organisation’s widget keys (newest first), optionally of one agent',
      querystring: WidgetKeyListQuery,
      response: { 200: Type.Array(Type.Ref(WidgetKey)), ...errorResponses() },
    },
    handler: (request) =>
      widgetKeys.list({ organizationId: principalOf(request).organizationId, agentId: request.query.agent_id }),
  });
}

function registerWidgetKeyItemRoutes(app: TypedApp, dependencies: WidgetKeyRoutesDependencies): void {
  const { widgetKeys } = dependencies;

  app.get('/api/v1/widget-keys/:widget_key_id', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'getWidgetKey',
      summary: 'Get a widget key',
      params: WidgetKeyParams,
      response: { 200: Type.Ref(WidgetKey), ...errorResponses(404) },
    },
    handler: (request) =>
      widgetKeys.require({ organizationId: principalOf(request).organizationId, id: request.params.widget_key_id }),
  });

  app.delete('/api/v1/widget-keys/:widget_key_id', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'revokeWidgetKey',
      summary: 'Revoke a widget key: it mints no session and its visitors’ tokens stop working',
      params: WidgetKeyParams,
      response: { 200: Type.Ref(WidgetKey), ...errorResponses(404) },
    },
    handler: (request) =>
      widgetKeys.revoke({ organizationId: principalOf(request).organizationId, id: request.params.widget_key_id }),
  });
}
