import { Readable } from 'node:stream';
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FeedbackAuthor, FeedbackFilter } from '../../domain/feedback.js';
import { AppError } from '../../errors.js';
import { principalOf, userPrincipalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import type { FeedbackService } from './feedback.service.js';
import {
  ChatMessageFeedback,
  ChatMessageFeedbackUpdate,
  FeedbackCreate,
  FeedbackExportQuery,
  FeedbackList,
  FeedbackListQuery,
  FeedbackRecord,
  FlowFeedback,
  FlowFeedbackCreate,
} from './feedback.schemas.js';

type FeedbackRoutesDependencies = { feedback: FeedbackService; idempotency: Idempotency };

const tags = ['feedback'];

/** The feedback family of the contract and its list and export extensions (docs/feedback.md). */
export function registerFeedbackRoutes(parent: FastifyInstance, dependencies: FeedbackRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [
    ChatMessageFeedbackUpdate,
    FeedbackCreate,
    ChatMessageFeedback,
    FlowFeedbackCreate,
    FlowFeedback,
    FeedbackRecord,
    FeedbackList,
  ]) {
    app.addSchema(schema);
  }
  registerRatingRoutes(app, dependencies);
  registerReadingRoutes(app, dependencies);
}

function registerRatingRoutes(app: TypedApp, dependencies: FeedbackRoutesDependencies): void {
  const { feedback, idempotency } = dependencies;
  app.post('/api/v1/feedback/chat', {
    config: { scope: 'write', anonymous: true, documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createChatMessageFeedback',
      summary: 'Rate an assistant message (replaces your earlier rating; feedback_type null revokes it)',
      body: Type.Ref(FeedbackCreate),
      response: { 200: Type.Ref(ChatMessageFeedback), ...errorResponses(404, 409) },
    },
    handler: (request, reply) => {
      const body = request.body as typeof FeedbackCreate.static;
      const { feedback_type = null, issue_type = null, comment = null, context_id = null } = body.feedback_details;
      return idempotency.send(request, reply, (claim) =>
        feedback.rateMessage({
          organizationId: principalOf(request).organizationId,
          author: authorOf(request),
          messageId: body.message_id,
          source: body.source,
          details: { feedback_type, issue_type, comment, context_id },
          idempotency: claim,
        }),
      );
    },
  });

  app.post('/api/v1/feedback/flow', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createFlowExecutionFeedback',
      summary: 'Rate a run (flow execution); replaces your earlier rating, feedback_type null revokes it',
      body: Type.Ref(FlowFeedbackCreate),
      response: { 200: Type.Ref(FlowFeedback), ...errorResponses(404, 409) },
    },
    handler: (request, reply) => {
      const body = request.body as typeof FlowFeedbackCreate.static;
      const principal = userPrincipalOf(request);
      return idempotency.send(request, reply, (claim) =>
        feedback.rateRun({
          organizationId: principal.organizationId,
          author: { kind: 'user', userId: principal.userId },
          runId: body.flow_execution_id,
          source: body.source,
          details: {
            feedback_type: body.feedback_type ?? null,
            issue_type: body.issue_type ?? null,
            comment: body.comment ?? null,
            context_id: body.context_id,
          },
          idempotency: claim,
        }),
      );
    },
  });
}

function registerReadingRoutes(app: TypedApp, dependencies: FeedbackRoutesDependencies): void {
  const { feedback } = dependencies;
  app.get('/api/v1/feedback', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listFeedback',
      summary: 'List ratings of answers (newest first)',
      'x-parley-extension': true,
      querystring: FeedbackListQuery,
      response: { 200: Type.Ref(FeedbackList), ...errorResponses() },
    },
    handler: (request) => {
      const { query } = request;
      return feedback.list({
        ...filterOf(request, query),
        limit: query.limit,
        offset: query.offset,
        before: query.before,
        after: query.after,
      });
    },
  });

  app.get('/api/v1/feedback/export', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'exportFeedback',
      summary: 'Export ratings of answers with their conversation, as JSON Lines or CSV (streamed)',
      'x-parley-extension': true,
      querystring: FeedbackExportQuery,
      response: {
        200: {
          description: 'One rating per line, newest first',
          content: {
            'application/x-ndjson': { schema: Type.String() },
            'text/csv': { schema: Type.String() },
          },
        },
        ...errorResponses(),
      },
    },
    handler: async (request, reply) => {
      const { format } = request.query;
      // Bytes, not objects: the stream then buffers at most one chunk before the socket's backpressure holds it.
      const chunks = feedback.export({ filter: filterOf(request, request.query), format });
      const body = Readable.from(chunks, { objectMode: false });
      reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="feedback.${format}"`);
      // The 200 schema describes text for the document; Fastify sends a stream as it is.
      return reply.send(body as never);
    },
  });
}

function filterOf(request: FastifyRequest, query: Omit<typeof FeedbackExportQuery.static, 'format'>): FeedbackFilter {
  return {
    organizationId: userPrincipalOf(request).organizationId,
    agentId: query.agent_id,
    feedbackType: query.feedback_type,
    issueType: query.issue_type,
    from: query.from,
    to: query.to,
    anonymous: query.anonymous,
  };
}

/** The user, or the visitor held to their one agent (a visitor credential always names one). */
function authorOf(request: FastifyRequest): FeedbackAuthor {
  const principal = principalOf(request);
  if (principal.kind === 'user') return { kind: 'user', userId: principal.userId };
  if (principal.agentId === undefined) throw new AppError('insufficient_scope');
  return { kind: 'anonymous', anonymousUserId: principal.anonymousUserId, agentId: principal.agentId };
}
