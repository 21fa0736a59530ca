import { Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { TypedApp } from '../../http/typed-app.js';
import { errorResponses } from '../../http/schemas.js';
import { scopeOf } from './message-streams.js';
import type { MessagesService } from './messages.service.js';
import type { Idempotency } from '../../http/idempotency.js';
import { ToolCallApprove, ToolCallDecided, ToolCallParams, ToolCallReject } from './tool-approvals.schemas.js';

const tags = ['chat'];
const path = '/api/v1/chat/:agent_id/threads/:thread_id/runs/:run_id/tool-calls/:call_id';

/** Approve and reject a tool call a run waits on (docs/adr/0015-tool-approval.md). */
export function registerToolApprovalRoutes(
  app: TypedApp,
  dependencies: { messages: MessagesService; idempotency: Idempotency },
): void {
  const { messages, idempotency } = dependencies;
  for (const schema of [ToolCallApprove, ToolCallReject, ToolCallDecided]) app.addSchema(schema);
  const responses = { 200: Type.Ref(ToolCallDecided), ...errorResponses(404, 409) };

  app.post(`${path}/approve`, {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    preValidation: bodyIsOptional,
    schema: {
      tags,
      operationId: 'approveToolCall',
      summary: 'Approve a tool call the run waits on (optionally with edited arguments); the run goes on',
      'x-parley-extension': true,
      params: ToolCallParams,
      body: Type.Ref(ToolCallApprove),
      response: responses,
    },
    handler: async (request, reply) => {
      const body = request.body as typeof ToolCallApprove.static;
      const decision = { kind: 'approve' as const, arguments: body.arguments };
      await idempotency.send(request, reply, (claim) =>
        messages.decideToolCall({ ...callOf(request), decision, idempotency: claim }),
      );
    },
  });

  app.post(`${path}/reject`, {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    preValidation: bodyIsOptional,
    schema: {
      tags,
      operationId: 'rejectToolCall',
      summary: 'Reject a tool call the run waits on; the model gets the refusal and the run goes on',
      'x-parley-extension': true,
      params: ToolCallParams,
      body: Type.Ref(ToolCallReject),
      response: responses,
    },
    handler: async (request, reply) => {
      const body = request.body as typeof ToolCallReject.static;
      const decision = { kind: 'reject' as const, reason: body.reason };
      await idempotency.send(request, reply, (claim) =>
        messages.decideToolCall({ ...callOf(request), decision, idempotency: claim }),
      );
    },
  });
}

/** Both bodies are optional: a request without one decides with the defaults (`{}`). */
async function bodyIsOptional(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

function callOf(request: FastifyRequest) {
  const params = request.params as { run_id: string; call_id: string };
  return { ...scopeOf(request), runId: params.run_id, toolCallId: params.call_id };
}
