import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import type { OpenApiImportService } from './openapi-import.service.js';
import { OpenApiImportRequest, OpenApiImportResult } from './openapi-import.schemas.js';
import type { ToolsService } from './tools.service.js';
import {
  AgentTool,
  AgentToolCreate,
  AgentToolListQuery,
  AgentToolParams,
  AgentToolsParams,
  AgentToolUpdate,
} from './tools.schemas.js';

type ToolRoutesDependencies = { tools: ToolsService; imports: OpenApiImportService; idempotency: Idempotency };

const tags = ['agent-tools'];

export function registerToolRoutes(parent: FastifyInstance, dependencies: ToolRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [AgentTool, AgentToolCreate, AgentToolUpdate, OpenApiImportRequest, OpenApiImportResult])
    app.addSchema(schema);
  registerToolCollectionRoutes(app, dependencies);
  registerImportRoute(app, dependencies);
  registerToolItemRoutes(app, dependencies);
}

function registerToolCollectionRoutes(app: TypedApp, dependencies: ToolRoutesDependencies): void {
  const { tools, idempotency } = dependencies;
  app.get('/api/v1/agents/:agent_id/tools', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listAgentTools',
      summary: 'Get agent tools (in the order added)',
      params: AgentToolsParams,
      querystring: AgentToolListQuery,
      response: { 200: Type.Array(Type.Ref(AgentTool)), ...errorResponses(404) },
    },
    handler: (request) =>
      tools.list({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        toolType: request.query.tool_type,
        isEnabled: request.query.is_enabled,
      }),
  });

  app.post('/api/v1/agents/:agent_id/tools', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createAgentTool',
      summary: 'Create agent tool',
      params: AgentToolsParams,
      body: Type.Ref(AgentToolCreate),
      response: { 200: Type.Ref(AgentTool), ...errorResponses(404, 409) },
    },
    handler: (request, reply) =>
      idempotency.send(request, reply, (claim) =>
        tools.create({
          organizationId: principalOf(request).organizationId,
          agentId: request.params.agent_id,
          body: request.body as typeof AgentToolCreate.static,
          idempotency: claim,
        }),
      ),
  });
}

function registerToolItemRoutes(app: TypedApp, dependencies: ToolRoutesDependencies): void {
  const { tools } = dependencies;
  app.get('/api/v1/agents/:agent_id/tools/:tool_id', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getAgentTool',
      summary: 'Get agent tool',
      params: AgentToolParams,
      response: { 200: Type.Ref(AgentTool), ...errorResponses(404) },
    },
    handler: (request) =>
      tools.get({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        toolId: request.params.tool_id,
      }),
  });

  app.patch('/api/v1/agents/:agent_id/tools/:tool_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'updateAgentTool',
      summary: 'Update agent tool',
      'x-parley-extension': true,
      params: AgentToolParams,
      body: Type.Ref(AgentToolUpdate),
      response: { 200: Type.Ref(AgentTool), ...errorResponses(404, 409) },
    },
    handler: (request) =>
      tools.update({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        toolId: request.params.tool_id,
        changes: request.body as typeof AgentToolUpdate.static,
      }),
  });

  app.delete('/api/v1/agents/:agent_id/tools/:tool_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'deleteAgentTool',
      summary: 'Delete agent tool',
      'x-parley-extension': true,
      params: AgentToolParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      await tools.delete({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        toolId: request.params.tool_id,
      });
      return reply.code(204).send(null);
    },
  });
}

function registerImportRoute(app: TypedApp, dependencies: ToolRoutesDependencies): void {
  const { imports, idempotency } = dependencies;
  app.post('/api/v1/agents/:agent_id/tools/import-openapi', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'importOpenApiTools',
      summary: 'Create external tools from an OpenAPI 3.0/3.1 or Swagger 2.0 description',
      description: 'One tool per operation, or the reason it was skipped; see docs/tools.md.',
      'x-parley-extension': true,
      params: AgentToolsParams,
      body: Type.Ref(OpenApiImportRequest),
      response: { 200: Type.Ref(OpenApiImportResult), ...errorResponses(404) },
    },
    handler: (request, reply) =>
      idempotency.send(request, reply, (claim) =>
        imports.import({
          organizationId: principalOf(request).organizationId,
          agentId: request.params.agent_id,
          body: request.body as typeof OpenApiImportRequest.static,
          idempotency: claim,
        }),
      ),
  });
}
