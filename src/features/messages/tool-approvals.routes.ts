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
  for (const route of DECISION_ROUTES) {
    app.post(`${path}/${route.action}`, {
      config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
      preValidation: bodyIsOptional,
      schema: {
        tags,
        operationId: route.operationId,
        summary: route.summary,
        'x-parley-extension': true,
        params: ToolCallParams,
        body: Type.Ref(route.body),
        response: responses,
      },
      handler: async (request, reply) => {
        const decision = route.decision(request.body as Record<string, unknown>);
        await idempotency.send(request, reply, (claim) =>
          messages.decideToolCall({ ...callOf(request), decision, idempotency: claim }),
        );
      },
    });
  }
}

/** The two decisions: the same route but for its name, body and what the body decides. */
const DECISION_ROUTES = [
  {
    action: 'approve',
    operationId: 'approveToolCall',
    summary: 'Approve a tool call the run waits on (optionally with edited arguments); the run goes on',
    body: ToolCallApprove,
    decision: (body: Record<string, unknown>) => ({
      kind: 'approve' as const,
      arguments: (body as typeof ToolCallApprove.static).arguments,
    }),
  },
  {
    action: 'reject',
    operationId: 'rejectToolCall',
    summary: 'Reject a tool call the run waits on; the model gets the refusal and the run goes on',
    body: ToolCallReject,
    decision: (body: Record<string, unknown>) => ({
      kind: 'reject' as const,
      reason: (body as typeof ToolCallReject.static).reason,
    }),
  },
] as const;

/** Both bodies are optional: a request without one decides with the defaults (`{}`). */
async function bodyIsOptional(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

function callOf(request: FastifyRequest) {
  const params = request.params as { run_id: string; call_id: string };
  return { ...scopeOf(request), runId: params.run_id, toolCallId: params.call_id };
}
