import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { typedApp } from '../../http/typed-app.js';
import { errorResponses } from '../../http/schemas.js';
import type { ModelCatalog } from '../../models/catalog.js';

export const ModelCatalogSchema = Type.Object(
  {
    models: Type.Array(
      Type.Object(
        {
          id: Type.String({ description: 'What `configuration.model` names, e.g. `openai:gpt-4o-mini`.' }),
          provider: Type.String(),
          configured: Type.Boolean({ description: 'Whether the server has this provider’s credentials.' }),
        },
        { additionalProperties: false },
      ),
    ),
    providers: Type.Array(
      Type.Object(
        {
          provider: Type.String(),
          configured: Type.Boolean(),
          model_form: Type.String({ description: 'How a model of this provider is named, e.g. `ollama:<model>`.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { $id: 'ModelCatalog', additionalProperties: false },
);

/** GET /api/v1/models (extension): the models and providers this server can run (src/models/catalog.ts). */
export function registerModelRoutes(parent: FastifyInstance, dependencies: { catalog: ModelCatalog }): void {
  const app = typedApp(parent);
  app.addSchema(ModelCatalogSchema);
  app.get('/api/v1/models', {
    config: { scope: 'read' },
    schema: {
      tags: ['agents'],
      operationId: 'listModels',
      summary: 'List the models agents can use on this server',
      'x-parley-extension': true,
      response: { 200: Type.Ref(ModelCatalogSchema), ...errorResponses() },
    },
    handler: async () => dependencies.catalog,
  });
}
