import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import {
  AgentPathParams,
  ChatMessage,
  ChatMessageFeedbackSimple,
  ChatThread,
  ChatThreadCreate,
  ToolCall,
} from '../dist/features/threads/threads.schemas.js';
import { validatorCompilerBuilder } from '../dist/http/validation.js';

/**
 * The reference point of the benchmark: Fastify 5 with the thread-create route's own params and
 * body schemas, compiled by Parley's own ajv setup, and the same response schema (so the JSON
 * serialisation costs the same). No logging, hooks, authentication, idempotency or database:
 * what Parley adds on top of this is what the ratio measures.
 *
 * Started by bench/run.js with PORT and HOST; prints "listening" once it accepts connections.
 */
const app = Fastify({
  logger: false,
  schemaController: { compilersFactory: { buildValidator: validatorCompilerBuilder() } },
});

// Registered as shared schemas, as src/features/threads/threads.routes.ts does, so `$ref`s resolve.
for (const schema of [ToolCall, ChatMessageFeedbackSimple, ChatMessage, ChatThread, ChatThreadCreate]) {
  app.addSchema(schema);
}

app.post('/api/v1/chat/:agent_id/threads', {
  schema: {
    params: AgentPathParams,
    body: Type.Ref(ChatThreadCreate),
    response: { 200: Type.Ref(ChatThread) },
  },
  handler: async (request) => {
    const now = new Date().toISOString();
    return {
      id: randomUUID(),
      agent_id: request.params.agent_id,
      user_id: null,
      anon_user_id: null,
      organization_id: ORGANIZATION_ID,
      title: request.body.title ?? null,
      metadata: request.body.metadata ?? {},
      created_at: now,
      updated_at: now,
      messages: [],
    };
  },
});

const ORGANIZATION_ID = randomUUID();

await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`listening on ${app.server.address().port}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
