import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import { principalOf, visitorOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import type { ThreadsService } from './threads.service.js';
import {
  AgentPathParams,
  ChatMessage,
  ChatMessageFeedbackSimple,
  ChatThread,
  ChatThreadCreate,
  ChatThreadUpdate,
  ClearAllQuery,
  MessageListQuery,
  ThreadGetQuery,
  ThreadListQuery,
  ThreadPathParams,
  ToolCall,
} from './threads.schemas.js';

type ThreadRoutesDependencies = { threads: ThreadsService; idempotency: Idempotency };

const tags = ['chat'];

export function registerThreadRoutes(parent: FastifyInstance, dependencies: ThreadRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [
    ToolCall,
    ChatMessageFeedbackSimple,
    ChatMessage,
    ChatThread,
    ChatThreadCreate,
    ChatThreadUpdate,
  ]) {
    app.addSchema(schema);
  }
  registerThreadCollectionRoutes(app, dependencies);
  registerThreadItemRoutes(app, dependencies);
  registerThreadMessageRoutes(app, dependencies);
}

function registerThreadCollectionRoutes(app: TypedApp, dependencies: ThreadRoutesDependencies): void {
  const { threads, idempotency } = dependencies;
  // Registered before the parameterised /chat/:agent_id routes it sits beside.
  app.delete('/api/v1/chat/clear-all-chats', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'clearAllChats',
      summary: 'Clear all chats of an agent',
      querystring: ClearAllQuery,
      response: { 200: Type.Object({}, { additionalProperties: false }), ...errorResponses(404) },
    },
    handler: async (request) => {
      await threads.clearAll({ organizationId: principalOf(request).organizationId, agentId: request.query.agent_id });
      return {};
    },
  });

  app.get('/api/v1/chat/:agent_id/threads', {
    // A widget visitor lists only their own threads (ThreadsService).
    config: { scope: 'read', anonymous: true },
    schema: {
      tags,
      operationId: 'listChatThreads',
      summary: 'List chat threads (newest first)',
      params: AgentPathParams,
      querystring: ThreadListQuery,
      response: { 200: Type.Array(Type.Ref(ChatThread)), ...errorResponses(404) },
    },
    handler: (request) =>
      threads.list({
        organizationId: principalOf(request).organizationId,
        visitor: visitorOf(principalOf(request)),
        agentId: request.params.agent_id,
        page: request.query,
        includeMessages: request.query.include_messages,
      }),
  });

  app.post('/api/v1/chat/:agent_id/threads', {
    config: { scope: 'write', anonymous: true, documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createChatThread',
      summary: 'Create chat thread',
      params: AgentPathParams,
      body: Type.Ref(ChatThreadCreate),
      response: { 200: Type.Ref(ChatThread), ...errorResponses(404, 409) },
    },
    handler: (request, reply) => {
      const principal = principalOf(request);
      return idempotency.send(request, reply, (claim) =>
        threads.create({
          organizationId: principal.organizationId,
          owner: principal.kind === 'user' ? { userId: principal.userId } : { visitor: visitorOf(principal)! },
          agentId: request.params.agent_id,
          body: request.body as typeof ChatThreadCreate.static,
          idempotency: claim,
        }),
      );
    },
  });
}

function registerThreadItemRoutes(app: TypedApp, dependencies: ThreadRoutesDependencies): void {
  const { threads } = dependencies;
  app.get('/api/v1/chat/:agent_id/threads/:thread_id', {
    config: { scope: 'read', anonymous: true },
    schema: {
      tags,
      operationId: 'getChatThread',
      summary: 'Get chat thread with its messages',
      params: ThreadPathParams,
      querystring: ThreadGetQuery,
      response: { 200: Type.Ref(ChatThread), ...errorResponses(404) },
    },
    handler: (request) =>
      threads.get({
        organizationId: principalOf(request).organizationId,
        visitor: visitorOf(principalOf(request)),
        agentId: request.params.agent_id,
        threadId: request.params.thread_id,
        includeMessages: request.query.include_messages,
      }),
  });

  app.patch('/api/v1/chat/:agent_id/threads/:thread_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'updateChatThread',
      summary: 'Rename a thread or replace its metadata',
      'x-parley-extension': true,
      params: ThreadPathParams,
      body: Type.Ref(ChatThreadUpdate),
      response: { 200: Type.Ref(ChatThread), ...errorResponses(404) },
    },
    handler: (request) =>
      threads.update({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        threadId: request.params.thread_id,
        changes: request.body as typeof ChatThreadUpdate.static,
      }),
  });

  app.delete('/api/v1/chat/:agent_id/threads/:thread_id', {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'deleteChatThread',
      summary: 'Delete chat thread with its messages, tool calls and feedback',
      params: ThreadPathParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404) },
    },
    handler: async (request, reply) => {
      await threads.delete({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        threadId: request.params.thread_id,
      });
      return reply.code(204).send(null);
    },
  });
}

function registerThreadMessageRoutes(app: TypedApp, dependencies: ThreadRoutesDependencies): void {
  const { threads } = dependencies;
  app.get('/api/v1/chat/:agent_id/threads/:thread_id/messages', {
    config: { scope: 'read', anonymous: true },
    schema: {
      tags,
      operationId: 'listChatMessages',
      summary: 'List chat messages (oldest first)',
      params: ThreadPathParams,
      querystring: MessageListQuery,
      response: { 200: Type.Array(Type.Ref(ChatMessage)), ...errorResponses(404) },
    },
    handler: (request) =>
      threads.listMessages({
        organizationId: principalOf(request).organizationId,
        visitor: visitorOf(principalOf(request)),
        agentId: request.params.agent_id,
        threadId: request.params.thread_id,
        page: request.query,
        filterSuggestions: request.query.filter_suggestions,
      }),
  });
}
