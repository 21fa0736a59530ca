import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { typedApp } from '../../http/typed-app.js';
import { userPrincipalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import { ThreadPathParams } from '../threads/threads.schemas.js';
import type { StreamTokensService } from './stream-tokens.service.js';

const StreamToken = Type.Object(
  {
    token: Type.String({
      description: 'A signed token for this thread’s follow stream; a credential: keep it out of logs.',
    }),
    expires_at: Type.String({
      format: 'date-time',
      description: 'When the token stops opening streams (a stream already open goes on).',
    }),
    stream_url: Type.String({
      description:
        'The follow route of the thread with the token, relative to the server: `/api/v1/chat/{agent_id}/threads/{thread_id}/stream?token=…`.',
    }),
  },
  { $id: 'StreamToken', additionalProperties: false, description: 'A short-lived stream token (docs/streaming.md).' },
);

export function registerStreamTokenRoutes(
  parent: FastifyInstance,
  dependencies: { tokens: StreamTokensService },
): void {
  const app = typedApp(parent);
  app.addSchema(StreamToken);
  // No body, and no Idempotency-Key: nothing is stored, and a replay would have to store the token.
  app.post('/api/v1/chat/:agent_id/threads/:thread_id/stream-token', {
    config: { scope: 'read' },
    schema: {
      tags: ['chat'],
      operationId: 'createStreamToken',
      summary: 'Issue a short-lived token to follow this thread without a key (EventSource)',
      description:
        'The token opens `GET …/threads/{thread_id}/stream?token=` of this thread only, for `STREAM_TOKEN_TTL_SECONDS` (300 s by default), with the read access of the calling key; see docs/streaming.md.',
      'x-parley-extension': true,
      params: ThreadPathParams,
      response: { 200: Type.Ref(StreamToken), ...errorResponses(404) },
    },
    handler: (request) =>
      dependencies.tokens.issue({
        principal: userPrincipalOf(request),
        agentId: request.params.agent_id,
        threadId: request.params.thread_id,
      }),
  });
}
