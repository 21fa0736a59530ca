import { Type } from '@sinclair/typebox';
import { TOOL_CALL_STATUSES } from '../../domain/runs.js';
import { FreeObject, MAX_LIST_OFFSET, Nullable, Uuid } from '../../http/schemas.js';

export const ToolCallStatus = Type.Union(
  TOOL_CALL_STATUSES.map((status) => Type.Literal(status)),
  { description: 'Where the call stands (docs/tools.md, "Auditing tool calls").' },
);

export const ToolCallApproval = Type.Object(
  {
    step: Type.Integer({ description: 'The model call (step) of the run that asked for the call.' }),
    requested_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
    requested_arguments: { ...FreeObject, description: 'The arguments the model asked for.' },
    decision: Nullable(Type.Union([Type.Literal('approved'), Type.Literal('rejected')])),
    reason: Nullable(Type.String({ description: 'Why it was rejected: the reviewer’s words, or `expired`.' })),
    decided_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'ToolCallApproval', additionalProperties: false },
);

export const AuditedToolCall = Type.Object(
  {
    id: Uuid,
    agent_id: Uuid,
    thread_id: Uuid,
    message_id: Uuid,
    run_id: Nullable(Type.String({ description: 'The run that made the call; null for imported history.' })),
    tool_call_id: Nullable(Type.String({ description: 'The model’s id for the call; null for imported history.' })),
    tool_name: Type.String(),
    status: ToolCallStatus,
    arguments: FreeObject,
    result: Type.Unknown({ description: 'What the tool returned (any JSON), or null.' }),
    error: Nullable(Type.String()),
    start_time: Type.String({ format: 'date-time' }),
    end_time: Nullable(Type.String({ format: 'date-time' })),
    approval: Nullable(Type.Ref(ToolCallApproval, { description: 'Null for calls that needed no approval.' })),
  },
  { $id: 'AuditedToolCall', additionalProperties: false, description: 'A tool call with its agent, run and status.' },
);

export const ToolCallList = Type.Object(
  {
    tool_calls: Type.Array(Type.Ref(AuditedToolCall)),
    total_count: Type.Integer(),
    page: Type.Integer(),
    page_size: Type.Integer(),
    has_more: Type.Boolean(),
  },
  { $id: 'ToolCallList', additionalProperties: false },
);

export const ToolCallListQuery = Type.Object({
  agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'Only the calls of this agent’s threads.' })),
  tool_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  status: Type.Optional(ToolCallStatus),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Calls that started at or after this time.' })),
  to: Type.Optional(
    Type.String({ format: 'date-time', description: 'Calls that started at or before this time; not before `from`.' }),
  ),
  // (page - 1) × page_size stays within MAX_LIST_OFFSET.
  page: Type.Integer({ minimum: 1, maximum: MAX_LIST_OFFSET / 100, default: 1 }),
  page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});
