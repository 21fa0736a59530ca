import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp } from '../../http/typed-app.js';
import { AgentPathParams } from '../threads/threads.schemas.js';
import type { SearchService } from './search.service.js';
import {
  ChatThreadSummary,
  MessageSearchQuery,
  MessageSearchResult,
  ThreadSearchMatch,
  ThreadSearchQuery,
  ThreadSearchResult,
} from './search.schemas.js';

/**
 * Message search (docs/search.md). Registered before the thread routes: `/threads/search` is a
 * static segment, which the router prefers to `/threads/{thread_id}` whatever the order, but the
 * order says so to a reader too.
 */
export function registerSearchRoutes(parent: FastifyInstance, dependencies: { search: SearchService }): void {
  const app = typedApp(parent);
  const { search } = dependencies;
  for (const schema of [ChatThreadSummary, ThreadSearchMatch, ThreadSearchResult, MessageSearchResult])
    app.addSchema(schema);

  app.get('/api/v1/chat/:agent_id/threads/search', {
    config: { scope: 'read' },
    schema: {
      tags: ['chat'],
      operationId: 'searchChatThreads',
      summary: 'Search the agent’s threads by the words of their messages (best first, with snippets)',
      'x-parley-extension': true,
      params: AgentPathParams,
      querystring: ThreadSearchQuery,
      response: { 200: Type.Array(Type.Ref(ThreadSearchResult)), ...errorResponses(404) },
    },
    handler: (request) =>
      search.threads({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        ...request.query,
      }),
  });

  app.get('/api/v1/search/messages', {
    config: { scope: 'read' },
    schema: {
      tags: ['search'],
      operationId: 'searchMessages',
      summary: 'Search the organisation’s chat messages (best first, with snippets)',
      'x-parley-extension': true,
      querystring: MessageSearchQuery,
      response: { 200: Type.Array(Type.Ref(MessageSearchResult)), ...errorResponses() },
    },
    handler: (request) =>
      search.messages({
        organizationId: principalOf(request).organizationId,
        q: request.query.q,
        agentId: request.query.agent_id,
        role: request.query.role,
        limit: request.query.limit,
        offset: request.query.offset,
      }),
  });
}
