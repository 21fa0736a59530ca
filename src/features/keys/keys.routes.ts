import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import { SCOPES } from '../../domain/models.js';
import { principalOf, userPrincipalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses, Nullable, Uuid } from '../../http/schemas.js';
import type { KeysService } from './keys.service.js';

const Scope = Type.Union(SCOPES.map((scope) => Type.Literal(scope)));

const ApiKey = Type.Object(
  {
    id: Uuid,
    organization_id: Uuid,
    user_id: Uuid,
    name: Type.String(),
    prefix: Type.String({ description: 'The start of the key, to recognise it.' }),
    last_four: Type.String({ description: 'The last four characters of the key.' }),
    scopes: Type.Array(Scope),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Nullable(Type.String({ format: 'date-time' })),
    revoked_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'ApiKey', additionalProperties: false, description: 'An API key, without its secret.' },
);

const ApiKeyCreate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    user_name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'The user the key acts as (created if missing). Defaults to the calling key’s user.',
      }),
    ),
    scopes: Type.Array(Scope, { minItems: 1, uniqueItems: true }),
    expires_at: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  },
  { $id: 'ApiKeyCreate', additionalProperties: false },
);

const ApiKeyCreated = Type.Object(
  {
    api_key: Type.Ref(ApiKey),
    key: Nullable(
      Type.String({
        description: 'The whole key, shown only in this response (null when an Idempotency-Key replays it).',
      }),
    ),
  },
  { $id: 'ApiKeyCreated', additionalProperties: false },
);

const KeyParams = Type.Object({ key_id: Uuid });

type KeyRoutesDependencies = { keys: KeysService; idempotency: Idempotency };

const common = { tags: ['api-keys'], 'x-parley-extension': true };

export function registerKeyRoutes(parent: FastifyInstance, dependencies: KeyRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [ApiKey, ApiKeyCreate, ApiKeyCreated]) app.addSchema(schema);
  registerKeyCollectionRoutes(app, dependencies);
  registerKeyItemRoutes(app, dependencies);
}

function registerKeyCollectionRoutes(app: TypedApp, dependencies: KeyRoutesDependencies): void {
  const { keys, idempotency } = dependencies;
  app.get('/api/v1/api-keys', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'listApiKeys',
      summary: 'List the organisation’s API keys',
      response: { 200: Type.Array(Type.Ref(ApiKey)), ...errorResponses() },
    },
    handler: (request) => keys.list(principalOf(request).organizationId),
  });

  app.post('/api/v1/api-keys', {
    config: { scope: 'admin', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      ...common,
      operationId: 'createApiKey',
      summary: 'Create an API key (its secret is shown once)',
      body: Type.Ref(ApiKeyCreate),
      response: { 200: Type.Ref(ApiKeyCreated), ...errorResponses(409) },
    },
    handler: async (request, reply) => {
      const principal = userPrincipalOf(request);
      const body = request.body as typeof ApiKeyCreate.static;
      const caller = await keys.describeUser(principal);
      return idempotency.send(request, reply, (claim) =>
        keys.create({
          organization: { id: principal.organizationId },
          userName: body.user_name ?? caller,
          name: body.name,
          scopes: body.scopes,
          expiresAt: body.expires_at,
          idempotency: claim,
        }),
      );
    },
  });
}

function registerKeyItemRoutes(app: TypedApp, dependencies: KeyRoutesDependencies): void {
  const { keys } = dependencies;
  app.get('/api/v1/api-keys/:key_id', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'getApiKey',
      summary: 'Get an API key',
      params: KeyParams,
      response: { 200: Type.Ref(ApiKey), ...errorResponses(404) },
    },
    handler: (request) =>
      keys.require({ organizationId: principalOf(request).organizationId, id: request.params.key_id }),
  });

  app.delete('/api/v1/api-keys/:key_id', {
    config: { scope: 'admin' },
    schema: {
      ...common,
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      params: KeyParams,
      response: { 200: Type.Ref(ApiKey), ...errorResponses(404) },
    },
    handler: (request) =>
      keys.revoke({ organizationId: principalOf(request).organizationId, id: request.params.key_id }),
  });
}
