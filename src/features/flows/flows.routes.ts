import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import {
  Flow,
  FlowAgentParams,
  FlowCreate,
  FlowListQuery,
  FlowParams,
  FlowSchedule,
  FlowUpdate,
  FlowVariable,
  RetryConfig,
} from './flows.schemas.js';
import type { FlowDefinitionInput, FlowsService } from './flows.service.js';

const tags = ['flows'];
const extension = { 'x-parley-extension': true } as const;

/** Flows CRUD under an agent (an extension: the contract names flows only by `flow_id`). */
export function registerFlowRoutes(
  parent: FastifyInstance,
  dependencies: { flows: FlowsService; idempotency: Idempotency },
): void {
  const app = typedApp(parent);
  for (const schema of [FlowVariable, RetryConfig, FlowSchedule, Flow, FlowCreate, FlowUpdate]) app.addSchema(schema);
  registerCollectionRoutes(app, dependencies);
  registerItemRoutes(app, dependencies.flows);
}

function registerCollectionRoutes(
  app: TypedApp,
  { flows, idempotency }: { flows: FlowsService; idempotency: Idempotency },
): void {
  app.post('/api/v1/agents/:agent_id/flows', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createFlow',
      summary: 'Create flow',
      ...extension,
      params: FlowAgentParams,
      body: Type.Ref(FlowCreate),
      response: { 200: Type.Ref(Flow), ...errorResponses(404, 409) },
    },
    handler: (request, reply) =>
      idempotency.send(request, reply, (claim) =>
        flows.create({
          organizationId: principalOf(request).organizationId,
          agentId: request.params.agent_id,
          body: request.body as FlowDefinitionInput & { name: string; instructions: string },
          idempotency: claim,
        }),
      ),
  });

  app.get('/api/v1/agents/:agent_id/flows', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listFlows',
      summary: 'List the agent’s flows (oldest first)',
      ...extension,
      params: FlowAgentParams,
      querystring: FlowListQuery,
      response: { 200: Type.Array(Type.Ref(Flow)), ...errorResponses(404) },
    },
    handler: (request) =>
      flows.list({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        page: request.query,
      }),
  });
}

function registerItemRoutes(app: TypedApp, flows: FlowsService): void {
  app.get('/api/v1/agents/:agent_id/flows/:flow_id', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getFlow',
      summary: 'Get flow',
      ...extension,
      params: FlowParams,
      response: { 200: Type.Ref(Flow), ...errorResponses(404) },
    },
    handler: (request) => flows.get({ organizationId: principalOf(request).organizationId, ...ids(request.params) }),
  });

  app.put('/api/v1/agents/:agent_id/flows/:flow_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'updateFlow',
      summary: 'Update flow (the fields given; schedules replace all)',
      ...extension,
      params: FlowParams,
      body: Type.Ref(FlowUpdate),
      response: { 200: Type.Ref(Flow), ...errorResponses(404) },
    },
    handler: (request) =>
      flows.update({
        organizationId: principalOf(request).organizationId,
        ...ids(request.params),
        body: request.body as FlowDefinitionInput,
      }),
  });

  app.delete('/api/v1/agents/:agent_id/flows/:flow_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'deleteFlow',
      summary: 'Delete flow (its executions stay)',
      ...extension,
      params: FlowParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      await flows.delete({ organizationId: principalOf(request).organizationId, ...ids(request.params) });
      return reply.code(204).send(null);
    },
  });
}

function ids(params: { agent_id: string; flow_id: string }) {
  return { agentId: params.agent_id, id: params.flow_id };
}
