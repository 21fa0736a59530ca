import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import type { Store } from '../../storage/store.js';
import {
  ExecutionParams,
  ExecutionStep,
  FlowExecution,
  FlowExecutionList,
  FlowExecutionListQuery,
} from './flow-executions.schemas.js';

/** Every agent run is a flow execution (trigger `api`); these routes read them. */
export function registerFlowExecutionRoutes(parent: FastifyInstance, dependencies: { store: Store }): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = dependencies;
  for (const schema of [ExecutionStep, FlowExecution, FlowExecutionList]) app.addSchema(schema);
  const tags = ['flow-execution'];

  app.get('/api/v1/flows/executions', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listFlowExecutions',
      summary: 'List executions (newest first)',
      querystring: FlowExecutionListQuery,
      response: { 200: Type.Ref(FlowExecutionList), ...errorResponses() },
    },
    handler: async (request) => {
      const { page, page_size: pageSize } = request.query;
      const { executions, total } = await store.runs.list({
        organizationId: principalOf(request).organizationId,
        flowId: request.query.flow_id,
        agentId: request.query.agent_id,
        status: request.query.status,
        triggerType: request.query.trigger_type,
        limit: pageSize,
        offset: (page - 1) * pageSize,
      });
      return { executions, total_count: total, page, page_size: pageSize, has_more: page * pageSize < total };
    },
  });

  app.get('/api/v1/flows/executions/:execution_id', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getFlowExecution',
      summary: 'Get execution',
      params: ExecutionParams,
      response: { 200: Type.Ref(FlowExecution), ...errorResponses(404) },
    },
    handler: async (request) => {
      const execution = await store.runs.get({
        organizationId: principalOf(request).organizationId,
        id: request.params.execution_id,
      });
      if (!execution) throw new AppError('flow_execution_not_found');
      return execution;
    },
  });
}
