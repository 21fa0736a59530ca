import { Type } from '@sinclair/typebox';
import { RETRY_ON, VARIABLE_TYPES } from '../../domain/flows.js';
import { PRIORITIES } from '../../domain/models.js';
import { DateTime, FreeObject, Metadata, Nullable, PaginationQuery, Uuid } from '../../http/schemas.js';

const literals = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));
export const Priority = literals(PRIORITIES);

export const FlowVariable = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 64 }),
    type: literals(VARIABLE_TYPES),
    required: Type.Boolean({ default: false }),
    default: Type.Optional(Type.Unknown({ description: 'Used when an execution does not give the variable.' })),
  },
  { $id: 'FlowVariable', additionalProperties: false },
);

export const RetryConfig = Type.Object(
  {
    max_retries: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
    backoff: Type.Union([Type.Literal('exponential'), Type.Literal('fixed')], { default: 'exponential' }),
    initial_delay_ms: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 1000 }),
    max_delay_ms: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 60_000 }),
    retry_on: Type.Array(literals(RETRY_ON), { maxItems: 2, uniqueItems: true, default: ['failed', 'timeout'] }),
  },
  {
    $id: 'RetryConfig',
    additionalProperties: false,
    description: 'A failed or timed-out execution (as listed in retry_on) is retried as a new execution.',
  },
);

const ScheduleInput = Type.Object(
  {
    cron: Type.String({ minLength: 1, maxLength: 120, description: 'Five or six fields (cron-parser syntax).' }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA name; default UTC.' })),
    variables: Type.Optional(FreeObject),
  },
  { additionalProperties: false },
);

export const FlowSchedule = Type.Object(
  { id: Uuid, cron: Type.String(), timezone: Type.String(), variables: FreeObject, next_run_at: DateTime },
  { $id: 'FlowSchedule', additionalProperties: false },
);

const definitionFields = {
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  instructions: Type.String({ minLength: 1, maxLength: 100_000, description: 'The task; `{{name}}` is a variable.' }),
  variables: Type.Optional(Type.Array(Type.Ref(FlowVariable), { maxItems: 64 })),
  tools: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      maxItems: 128,
      uniqueItems: true,
      description: 'Names of the agent’s tools this flow may use; empty: none.',
    }),
  ),
  output_schema: Type.Optional(Nullable(FreeObject)),
  timeout_seconds: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 86_400 }))),
  priority: Type.Optional(Nullable(Priority)),
  retry_config: Type.Optional(Nullable(Type.Ref(RetryConfig))),
  schedules: Type.Optional(Type.Array(ScheduleInput, { maxItems: 20 })),
  metadata: Type.Optional(Metadata),
};

export const FlowCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }), ...definitionFields },
  { $id: 'FlowCreate', additionalProperties: false },
);

export const FlowUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    ...definitionFields,
    instructions: Type.Optional(definitionFields.instructions),
  },
  { $id: 'FlowUpdate', additionalProperties: false, description: 'The fields to change; `schedules` replace all.' },
);

export const Flow = Type.Object(
  {
    id: Uuid,
    organization_id: Uuid,
    agent_id: Uuid,
    name: Type.String(),
    description: Nullable(Type.String()),
    instructions: Type.String(),
    variables: Type.Array(Type.Ref(FlowVariable)),
    tools: Type.Array(Type.String()),
    output_schema: Nullable(FreeObject),
    timeout_seconds: Nullable(Type.Integer()),
    priority: Nullable(Priority),
    retry_config: Nullable(Type.Ref(RetryConfig)),
    schedules: Type.Array(Type.Ref(FlowSchedule)),
    metadata: FreeObject,
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Flow', additionalProperties: false },
);

export const FlowAgentParams = Type.Object({ agent_id: Uuid });
export const FlowParams = Type.Object({ agent_id: Uuid, flow_id: Uuid });
export const FlowListQuery = Type.Object(PaginationQuery);
