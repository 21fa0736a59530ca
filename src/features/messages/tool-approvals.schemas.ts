import { Type } from '@sinclair/typebox';
import { FreeObject, Uuid } from '../../http/schemas.js';

/** Longest rejection reason accepted, in characters (the model reads it). */
export const MAX_REASON_CHARACTERS = 2000;

export const ToolCallParams = Type.Object({
  agent_id: Uuid,
  thread_id: Uuid,
  run_id: Uuid,
  call_id: Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'The call id of the `tool-approval-request` event (`tool_call_id`; the AI SDK `approvalId`).',
  }),
});

export const ToolCallApprove = Type.Object(
  {
    arguments: Type.Optional({
      ...FreeObject,
      description: "Replaces the model's arguments; must match the tool's input schema (else 422, nothing changes).",
    }),
  },
  { $id: 'ToolCallApprove', additionalProperties: false },
);

export const ToolCallReject = Type.Object(
  {
    reason: Type.Optional(
      Type.String({ maxLength: MAX_REASON_CHARACTERS, description: 'Shown to the model with the refusal.' }),
    ),
  },
  { $id: 'ToolCallReject', additionalProperties: false },
);

export const ToolCallDecided = Type.Object(
  {
    run_id: Uuid,
    tool_call_id: Type.String(),
    decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
    run_status: Type.Union([Type.Literal('running'), Type.Literal('pending')], {
      description: '`running`: this was the last call the run waited on, and it goes on; `pending`: others still wait.',
    }),
  },
  { $id: 'ToolCallDecided', additionalProperties: false },
);
