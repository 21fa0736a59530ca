import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { documentRoute, finishDocument } from './openapi-document.js';
import { ErrorResponse, ValidationErrorResponse } from './schemas.js';

/**
 * The OpenAPI 3.1 document is generated from the route schemas, never written by hand. Routes the
 * hosted contract lacks carry `x-parley-extension: true`.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.addSchema(ErrorResponse);
  app.addSchema(ValidationErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley — Agent Studio API',
        version,
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
        description:
          'Self-hosted, wire-compatible implementation of the Agent Studio REST API. Authenticate with the `x-api-key` header.',
      },
      // Relative: the document describes the server that serves it, wherever it is deployed.
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          APIKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          StreamToken: {
            type: 'apiKey',
            in: 'query',
            name: 'token',
            description:
              'A short-lived token from `POST /api/v1/chat/{agent_id}/threads/{thread_id}/stream-token`, accepted only by that thread’s `GET …/stream` (API keys are never accepted in a query string).',
          },
          VisitorToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'A chat-widget visitor’s token from `POST /api/v1/widget/sessions`, in `Authorization: Bearer`. Accepted only by the routes that list it, for the widget key’s agent, and there only for the visitor’s own threads (docs/widget.md).',
          },
        },
      },
      security: [{ APIKeyHeader: [] }],
    },
    transform: documentRoute,
    transformObject: (document) =>
      'openapiObject' in document
        ? finishDocument(document.openapiObject as Record<string, unknown>)
        : document.swaggerObject,
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`) },
  });
  // The reference UI and its assets are public. Encapsulated so this `onRoute` hook sees only the
  // routes the UI plugin adds: their public access is declared here, in route config, like any other.
  await app.register(async (documentation) => {
    documentation.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await documentation.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { docExpansion: 'list' },
      staticCSP: true,
    });
  });

  app.get('/openapi.json', {
    config: { public: true },
    schema: { hide: true },
    handler: async () => app.swagger(),
  });
}
