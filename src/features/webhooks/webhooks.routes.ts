import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { ErrorResponse, ValidationErrorResponse, errorResponses } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import type { WebhooksService } from './webhooks.service.js';
import {
  Webhook,
  WebhookCreate,
  WebhookCreated,
  WebhookDeliveries,
  WebhookDeliveriesQuery,
  WebhookDelivery,
  WebhookParams,
  WebhookSecret,
  WebhookUpdate,
} from './webhooks.schemas.js';

const common = { tags: ['webhooks'], 'x-parley-extension': true };

/** A URL refused by the guarded client is 422 `url_not_allowed` with a plain `detail`, besides the validation shape. */
const urlRefused = { 422: Type.Union([Type.Ref(ValidationErrorResponse), Type.Ref(ErrorResponse)]) };

/**
 * Signed webhooks (docs/webhooks.md). Every route needs the admin scope: an endpoint's URL can
 * carry a receiver's credential, and its log holds the events' payloads.
 */
type WebhookRoutesDependencies = { webhooks: WebhooksService; idempotency: Idempotency };

export function registerWebhookRoutes(parent: FastifyInstance, dependencies: WebhookRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookUpdate,
    WebhookDelivery,
    WebhookDeliveries,
    WebhookSecret,
  ]) {
    app.addSchema(schema);
  }
  registerCollectionRoutes(app, dependencies);
  registerItemRoutes(app, dependencies);
  registerActionRoutes(app, dependencies);
}

function registerCollectionRoutes(app: TypedApp, { webhooks, idempotency }: WebhookRoutesDependencies): void {
  app.post('/api/v1/webhooks', {
    config: { scope: 'admin', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      ...common,
      operationId: 'createWebhook',
      summary: 'Create a webhook endpoint (its signing secret is shown once)',
      body: Type.Ref(WebhookCreate),
      response: { 200: Type.Ref(WebhookCreated), ...errorResponses(409), ...urlRefused },
    },
    handler: (request, reply) => {
      const organizationId = principalOf(request).organizationId;
      const body = request.body as typeof WebhookCreate.static;
      return idempotency.send(request, reply, (claim) => webhooks.create({ organizationId, body, idempotency: claim }));
    },
  });

  app.get('/api/v1/webhooks', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'listWebhooks',
      summary: 'List the organisation’s webhook endpoints (newest first)',
      response: { 200: Type.Array(Type.Ref(Webhook)), ...errorResponses() },
    },
    handler: (request) => webhooks.list({ organizationId: principalOf(request).organizationId }),
  });
}

function registerItemRoutes(app: TypedApp, { webhooks }: WebhookRoutesDependencies): void {
  const item = { ...common, params: WebhookParams };
  const key = (request: { params: { webhook_id: string } }, organizationId: string) => ({
    organizationId,
    id: request.params.webhook_id,
  });

  app.get('/api/v1/webhooks/:webhook_id', {
    config: { scope: 'admin' },
    schema: {
      ...item,
      operationId: 'getWebhook',
      summary: 'Get a webhook endpoint',
      response: { 200: Type.Ref(Webhook), ...errorResponses(404) },
    },
    handler: (request) => webhooks.require(key(request, principalOf(request).organizationId)),
  });

  app.patch('/api/v1/webhooks/:webhook_id', {
    config: { scope: 'admin' },
    schema: {
      ...item,
      operationId: 'updateWebhook',
      summary: 'Change a webhook endpoint’s URL, events, description or enabled state',
      body: Type.Ref(WebhookUpdate),
      response: { 200: Type.Ref(Webhook), ...errorResponses(404), ...urlRefused },
    },
    handler: (request) =>
      webhooks.update({
        ...key(request, principalOf(request).organizationId),
        changes: request.body as typeof WebhookUpdate.static,
      }),
  });

  app.delete('/api/v1/webhooks/:webhook_id', {
    config: { scope: 'admin' },
    schema: {
      ...item,
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook endpoint with its delivery log',
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      await webhooks.delete(key(request, principalOf(request).organizationId));
      return reply.code(204).send(null);
    },
  });
}

function registerActionRoutes(app: TypedApp, { webhooks, idempotency }: WebhookRoutesDependencies): void {
  const item = { ...common, params: WebhookParams };

  app.get('/api/v1/webhooks/:webhook_id/deliveries', {
    config: { scope: 'admin' },
    schema: {
      ...item,
      operationId: 'listWebhookDeliveries',
      summary: 'The endpoint’s delivery log, newest first, with every attempt’s status code',
      querystring: WebhookDeliveriesQuery,
      response: { 200: Type.Ref(WebhookDeliveries), ...errorResponses(404) },
    },
    handler: (request) =>
      webhooks.deliveries({
        organizationId: principalOf(request).organizationId,
        id: request.params.webhook_id,
        ...request.query,
      }),
  });

  app.post('/api/v1/webhooks/:webhook_id/test', {
    config: { scope: 'admin', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      ...item,
      operationId: 'testWebhook',
      summary: 'Send a `webhook.test` delivery now (through the delivery queue); returns it, pending',
      response: { 200: Type.Ref(WebhookDelivery), ...errorResponses(404) },
    },
    handler: (request, reply) => {
      const key = { organizationId: principalOf(request).organizationId, id: request.params.webhook_id };
      return idempotency.send(request, reply, (claim) => webhooks.sendTest({ ...key, idempotency: claim }));
    },
  });

  app.post('/api/v1/webhooks/:webhook_id/rotate-secret', {
    config: { scope: 'admin', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      ...item,
      operationId: 'rotateWebhookSecret',
      summary: 'Make a new signing secret (shown once); the old one also signs during the overlap',
      response: { 200: Type.Ref(WebhookSecret), ...errorResponses(404) },
    },
    handler: (request, reply) => {
      const key = { organizationId: principalOf(request).organizationId, id: request.params.webhook_id };
      return idempotency.send(request, reply, (claim) => webhooks.rotateSecret({ ...key, idempotency: claim }));
    },
  });
}
