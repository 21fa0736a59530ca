import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import type { AgentsService } from './agents.service.js';
import { Agent, AgentCreate, AgentListQuery, AgentParams, AgentTemplate, AgentUpdate } from './agents.schemas.js';
import { AGENT_TEMPLATES } from './templates.js';
import { AgentFile } from '../files/files.schemas.js';

type AgentRoutesDependencies = { agents: AgentsService; idempotency: Idempotency };

const tags = ['agents'];

export function registerAgentRoutes(parent: FastifyInstance, dependencies: AgentRoutesDependencies): void {
  const app = typedApp(parent);
  // AgentFile is shared with the agent-files routes, which are registered after these.
  for (const schema of [AgentFile, Agent, AgentCreate, AgentUpdate, AgentTemplate]) app.addSchema(schema);
  registerAgentCollectionRoutes(app, dependencies);
  registerAgentItemRoutes(app, dependencies);
  registerTemplateRoutes(app);
}

function registerAgentCollectionRoutes(app: TypedApp, dependencies: AgentRoutesDependencies): void {
  const { agents, idempotency } = dependencies;
  app.get('/api/v1/agents', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listAgents',
      summary: 'List agents',
      querystring: AgentListQuery,
      response: { 200: Type.Array(Type.Ref(Agent)), ...errorResponses() },
    },
    handler: (request) => agents.list({ organizationId: principalOf(request).organizationId, ...request.query }),
  });

  app.post('/api/v1/agents', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createAgent',
      summary: 'Create agent from a template',
      body: Type.Ref(AgentCreate),
      response: { 200: Type.Ref(Agent), ...errorResponses(409) },
    },
    handler: (request, reply) =>
      idempotency.send(request, reply, (claim) =>
        agents.create({
          organizationId: principalOf(request).organizationId,
          body: request.body as typeof AgentCreate.static,
          idempotency: claim,
        }),
      ),
  });
}

function registerAgentItemRoutes(app: TypedApp, dependencies: AgentRoutesDependencies): void {
  const { agents } = dependencies;
  app.get('/api/v1/agents/:agent_id', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getAgent',
      summary: 'Get agent',
      params: AgentParams,
      response: { 200: Type.Ref(Agent), ...errorResponses(404) },
    },
    handler: (request) =>
      agents.require({ organizationId: principalOf(request).organizationId, id: request.params.agent_id }),
  });

  app.put('/api/v1/agents/:agent_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'updateAgent',
      summary: 'Update agent',
      params: AgentParams,
      body: Type.Ref(AgentUpdate),
      response: { 200: Type.Ref(Agent), ...errorResponses(404) },
    },
    handler: (request) =>
      agents.update({
        organizationId: principalOf(request).organizationId,
        id: request.params.agent_id,
        changes: request.body as typeof AgentUpdate.static,
      }),
  });

  app.delete('/api/v1/agents/:agent_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'deleteAgent',
      summary: 'Delete agent (with its threads)',
      'x-parley-extension': true,
      params: AgentParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      await agents.delete({ organizationId: principalOf(request).organizationId, id: request.params.agent_id });
      return reply.code(204).send(null);
    },
  });
}

function registerTemplateRoutes(app: TypedApp): void {
  app.get('/api/v1/templates', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listAgentTemplates',
      summary: 'List built-in agent templates',
      'x-parley-extension': true,
      response: { 200: Type.Array(Type.Ref(AgentTemplate)), ...errorResponses() },
    },
    handler: async () => [...AGENT_TEMPLATES],
  });
}
