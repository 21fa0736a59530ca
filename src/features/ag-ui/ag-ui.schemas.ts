import { Type } from '@sinclair/typebox';
import { ChatMessage } from '../threads/threads.schemas.js';

/**
 * One message of the conversation the client sends. Only the last one is read (the server keeps
 * the thread's history itself), and only when it is the user's; the others may be any AG-UI
 * message (assistant with `toolCalls`, tool, activity…), so nothing more is required of them.
 */
export const AgUiMessage = Type.Object(
  {
    id: Type.String(),
    role: Type.String({ description: '`user`, `assistant`, `tool`, `system`, `developer`, …' }),
    content: Type.Optional(
      Type.Unknown({ description: 'Text, or (for a user message) a list of parts; only `text` parts are read.' }),
    ),
  },
  { description: 'An AG-UI message. Fields beyond these are accepted and ignored.' },
);

/**
 * AG-UI's `RunAgentInput`, as `@ag-ui/client`'s `HttpAgent` posts it. `threadId` names an
 * existing thread of the agent; `tools`, `context`, `state` and `forwardedProps` are accepted and
 * not used (docs/streaming.md#ag-ui).
 */
export const RunAgentInput = Type.Object(
  {
    threadId: Type.String({ format: 'uuid', description: 'An existing chat thread of the agent in the path.' }),
    runId: Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'The client’s id for this run, echoed in RUN_STARTED and RUN_FINISHED.',
    }),
    messages: Type.Array(AgUiMessage, {
      minItems: 1,
      description: 'The conversation as the client has it; its last message, the user’s, is the new turn.',
    }),
    tools: Type.Optional(
      Type.Array(Type.Unknown(), { description: 'Frontend tools: not offered to the model (not supported yet).' }),
    ),
    context: Type.Optional(Type.Array(Type.Unknown(), { description: 'Accepted and not used.' })),
    state: Type.Optional(Type.Unknown({ description: 'Accepted and not used.' })),
    forwardedProps: Type.Optional(Type.Unknown({ description: 'Accepted and not used.' })),
    protocolVersion: Type.Optional(Type.String({ description: 'The AG-UI protocol version the client speaks.' })),
    parentRunId: Type.Optional(Type.String({ description: 'Accepted and not used.' })),
  },
  {
    $id: 'AgUiRunAgentInput',
    additionalProperties: false,
    description: 'The AG-UI `RunAgentInput` (https://docs.ag-ui.com).',
  },
);

/**
 * The 200 of the AG-UI route, for the OpenAPI document: an SSE stream the route writes itself,
 * or, for a retry with the Idempotency-Key of a completed run, the stored reply as JSON.
 */
export const AgUiEventStreamResponse = {
  description:
    'AG-UI events as server-sent events: each frame is `data: <event JSON>`, from RUN_STARTED through TEXT_MESSAGE_START/CONTENT/END, TOOL_CALL_START/ARGS/END and TOOL_CALL_RESULT to RUN_FINISHED or RUN_ERROR. See docs/streaming.md#ag-ui. A retry with the Idempotency-Key of a completed run gets the stored reply (a ChatMessage) as JSON, with `idempotent-replayed: true`.',
  content: {
    'text/event-stream': {
      schema: Type.String({ description: 'An SSE stream of `data:` lines, frames separated by a blank line.' }),
    },
    'application/json': { schema: Type.Ref(ChatMessage) },
  },
};
