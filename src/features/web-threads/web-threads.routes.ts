import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp } from '../../http/typed-app.js';
import { AgentPathParams, ChatThread } from '../threads/threads.schemas.js';
import type { WebThreadsService } from './web-threads.service.js';
import { EnhancedWebThread, WebThreadListQuery, WebThreadSearchQuery } from './web-threads.schemas.js';

const tags = ['chat'];

/**
 * Web threads (docs/web-threads.md): for API keys only — no `anonymous` flag, so a widget
 * visitor's token is 403 like on every route that does not admit visitors. Static paths under
 * `/chat/{agent_id}/web-threads`, registered before the parameterised thread routes.
 */
export function registerWebThreadRoutes(
  parent: FastifyInstance,
  dependencies: { webThreads: WebThreadsService },
): void {
  const app = typedApp(parent);
  const { webThreads } = dependencies;
  app.addSchema(EnhancedWebThread);

  app.get('/api/v1/chat/:agent_id/web-threads/enhanced', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listEnhancedWebChatThreads',
      summary: 'List web chat threads with widget user, message count and ticket data (newest first)',
      params: AgentPathParams,
      querystring: WebThreadListQuery,
      response: { 200: Type.Array(Type.Ref(EnhancedWebThread)), ...errorResponses(404) },
    },
    handler: (request) =>
      webThreads.enhanced({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        page: request.query,
      }),
  });

  app.get('/api/v1/chat/:agent_id/web-threads/search', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'searchWebChatThreads',
      summary: 'Search web chat threads by text, feedback, ticket status and date (by date)',
      params: AgentPathParams,
      querystring: WebThreadSearchQuery,
      response: { 200: Type.Array(Type.Ref(EnhancedWebThread)), ...errorResponses(404) },
    },
    handler: (request) =>
      webThreads.search({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        query: request.query,
      }),
  });

  app.get('/api/v1/chat/:agent_id/web-threads', {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listWebChatThreads',
      summary: 'List web chat threads: the agent’s threads started by widget visitors (newest first)',
      params: AgentPathParams,
      querystring: WebThreadListQuery,
      response: { 200: Type.Array(Type.Ref(ChatThread)), ...errorResponses(404) },
    },
    handler: (request) =>
      webThreads.list({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        page: request.query,
      }),
  });
}
