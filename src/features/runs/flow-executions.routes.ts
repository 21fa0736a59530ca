import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { hasScope, principalOf, userPrincipalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import type { ExecutionFieldChanges } from '../../storage/kysely/flow-executions-store.js';
import {
  ExecutionParams,
  ExecutionStep,
  FlowExecution,
  FlowExecutionChange,
  FlowExecutionCreate,
  FlowExecutionList,
  FlowExecutionListQuery,
  FlowExecutionResponse,
  FlowExecutionUpdate,
} from './flow-executions.schemas.js';
import type { ExecuteInput, FlowExecutionsService } from './flow-executions.service.js';

type Dependencies = { executions: FlowExecutionsService; idempotency: Idempotency };

const tags = ['flow-execution'];

/**
 * Flow executions: flows' runs (execute, cancel) and every chat run (trigger `api`), read,
 * listed and patched alike (docs/flows.md).
 */
export function registerFlowExecutionRoutes(parent: FastifyInstance, dependencies: Dependencies): void {
  const app = typedApp(parent);
  for (const schema of [
    ExecutionStep,
    FlowExecution,
    FlowExecutionList,
    FlowExecutionCreate,
    FlowExecutionResponse,
    FlowExecutionUpdate,
    FlowExecutionChange,
  ]) {
    app.addSchema(schema);
  }
  registerExecuteRoutes(app, dependencies);
  registerReadRoutes(app, dependencies);
}

function registerExecuteRoutes(app: TypedApp, { executions, idempotency }: Dependencies): void {
  app.post('/api/v1/flows/execute', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'executeFlow',
      summary: 'Execute flow (now, or at scheduled_at)',
      body: Type.Ref(FlowExecutionCreate),
      response: { 200: Type.Ref(FlowExecutionResponse), ...errorResponses(404, 409, 429) },
    },
    handler: (request, reply) =>
      idempotency.send(request, reply, (claim) =>
        executions.execute({
          organizationId: principalOf(request).organizationId,
          body: request.body as ExecuteInput,
          idempotency: claim,
        }),
      ),
  });

  app.post('/api/v1/flows/executions/:execution_id/cancel', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'cancelFlowExecution',
      summary: 'Cancel a flow execution (waiting or running)',
      'x-parley-extension': true,
      params: ExecutionParams,
      response: { 200: Type.Ref(FlowExecution), ...errorResponses(404, 409) },
    },
    handler: (request) =>
      executions.cancel({ organizationId: principalOf(request).organizationId, id: request.params.execution_id }),
  });

  app.patch('/api/v1/flows/executions/:execution_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'updateFlowExecution',
      summary: 'Update execution (runtime figures need an admin key)',
      params: ExecutionParams,
      body: Type.Ref(FlowExecutionUpdate),
      response: { 200: Type.Ref(FlowExecution), ...errorResponses(404, 409) },
    },
    handler: (request) => {
      const principal = userPrincipalOf(request);
      return executions.update({
        organizationId: principal.organizationId,
        id: request.params.execution_id,
        changes: request.body as ExecutionFieldChanges,
        keyId: principal.keyId,
        admin: hasScope(principal.scopes, 'admin'),
      });
    },
  });
}

function registerReadRoutes(app: TypedApp, { executions }: Dependencies): void {
  app.get('/api/v1/flows/executions', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listFlowExecutions',
      summary: 'List executions (newest first)',
      querystring: FlowExecutionListQuery,
      response: { 200: Type.Ref(FlowExecutionList), ...errorResponses() },
    },
    handler: (request) => {
      const { query } = request;
      return executions.list({
        organizationId: principalOf(request).organizationId,
        flowId: query.flow_id,
        agentId: query.agent_id,
        status: query.status,
        triggerType: query.trigger_type,
        startedAfter: query.started_after,
        startedBefore: query.started_before,
        page: query.page,
        pageSize: query.page_size,
        before: query.before,
        after: query.after,
      });
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
    handler: (request) =>
      executions.get({ organizationId: principalOf(request).organizationId, id: request.params.execution_id }),
  });

  app.get('/api/v1/flows/executions/:execution_id/changes', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listFlowExecutionChanges',
      summary: 'List the audited PATCH changes of an execution (oldest first)',
      'x-parley-extension': true,
      params: ExecutionParams,
      response: { 200: Type.Array(Type.Ref(FlowExecutionChange)), ...errorResponses(404) },
    },
    handler: (request) =>
      executions.changes({ organizationId: principalOf(request).organizationId, id: request.params.execution_id }),
  });
}
