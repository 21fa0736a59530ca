import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import { typedApp } from '../../http/typed-app.js';
import type { Idempotency } from '../../http/idempotency.js';
import { errorResponses } from '../../http/schemas.js';
import { pumpEvents } from '../../http/sse-pump.js';
import type { SseRegistry } from '../../http/sse-registry.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import { isRunEnd } from '../messages/stream-formats.js';
import { AgentPathParams } from '../threads/threads.schemas.js';
import { AG_UI_DIALECT, createAgUiView } from './ag-ui-view.js';
import { AgUiEventStreamResponse, RunAgentInput } from './ag-ui.schemas.js';
import type { AgUiService } from './ag-ui.service.js';

type AgUiRoutesDependencies = { agUi: AgUiService; idempotency: Idempotency; sse: SseRegistry };

/**
 * The AG-UI endpoint (docs/streaming.md#ag-ui): `@ag-ui/client`'s `HttpAgent` pointed at it runs
 * a turn of the agent in the body's thread, as `POST …/messages/stream` does, and reads the run
 * as AG-UI events.
 */
export function registerAgUiRoutes(parent: FastifyInstance, dependencies: AgUiRoutesDependencies): void {
  const { agUi, idempotency, sse } = dependencies;
  const app = typedApp(parent);
  app.addSchema(RunAgentInput);
  app.post('/api/v1/chat/:agent_id/ag-ui', {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags: ['chat'],
      operationId: 'runAgUiAgent',
      summary: 'Run the agent on a thread for an AG-UI client (SSE)',
      description:
        'The AG-UI protocol (https://docs.ag-ui.com), as `@ag-ui/client` HttpAgent speaks it: the body is a RunAgentInput whose `threadId` is a chat thread of the agent and whose last message, the user’s, is the new turn. See docs/streaming.md#ag-ui.',
      'x-parley-extension': true,
      params: AgentPathParams,
      body: Type.Ref(RunAgentInput),
      response: { 200: AgUiEventStreamResponse, ...errorResponses(400, 404, 409, 429) },
    },
    handler: async (request, reply) => {
      // The stream's slot is taken first: a 429 stores nothing.
      const slot = sse.admit(request, reply);
      const scope = { organizationId: principalOf(request).organizationId, agentId: request.params.agent_id };
      const input = request.body as typeof RunAgentInput.static;
      const started = await idempotency.begin(request, reply);
      if (started.kind === 'replayed') return;
      try {
        const run = await agUi.start({ ...scope, input, idempotency: started.claim });
        void run.completion.then(started.release, started.release);
        const stream = slot.open({ dialect: AG_UI_DIALECT });
        const view = createAgUiView({ threadId: input.threadId, runId: input.runId, parleyRunId: run.runId });
        const events = agUi.follow({ ...scope, input, after: run.after, signal: stream.signal, consumer: stream });
        const until = (event: LiveEvent) => isRunEnd(event, run.runId);
        await pumpEvents({ stream, events, toMessages: view.toMessages, until, log: request.log });
      } catch (error) {
        started.release();
        throw error;
      }
    },
  });
}
