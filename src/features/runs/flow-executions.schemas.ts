import { Type } from '@sinclair/typebox';
import { EXECUTION_STATUSES, PRIORITIES, TRIGGER_TYPES } from '../../domain/models.js';
import { DateTime, FreeObject, MAX_LIST_OFFSET, Metadata, Nullable, Uuid } from '../../http/schemas.js';
import { RetryConfig } from '../flows/flows.schemas.js';

const literals = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));
export const ExecutionStatus = literals(EXECUTION_STATUSES);
export const TriggerType = literals(TRIGGER_TYPES);

export const ExecutionStep = Type.Object(
  {
    step_id: Type.String(),
    step_name: Type.String(),
    step_type: Type.String(),
    status: ExecutionStatus,
    started_at: Type.String({ format: 'date-time' }),
    tool_name: Nullable(Type.String()),
    input_data: FreeObject,
    output_data: FreeObject,
    error_message: Nullable(Type.String()),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    duration_ms: Nullable(Type.Integer()),
    retry_count: Type.Integer(),
    metadata: FreeObject,
  },
  { $id: 'ExecutionStep', additionalProperties: false },
);

export const FlowExecution = Type.Object(
  {
    id: Type.String(),
    flow_id: Type.String(),
    agent_id: Type.String(),
    organization_id: Type.String(),
    execution_number: Type.Integer(),
    trigger_type: TriggerType,
    trigger_data: FreeObject,
    variables: FreeObject,
    priority: literals(PRIORITIES),
    status: ExecutionStatus,
    started_at: Type.String({ format: 'date-time' }),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    duration_ms: Nullable(Type.Integer()),
    timeout_seconds: Type.Integer(),
    steps: Type.Array(Type.Ref(ExecutionStep)),
    final_output: Nullable(FreeObject),
    error_message: Nullable(Type.String()),
    error_details: Nullable(FreeObject),
    retry_count: Type.Integer(),
    max_retries: Type.Integer(),
    parent_execution_id: Nullable(Type.String()),
    tokens_used: Nullable(Type.Integer()),
    tool_calls_count: Type.Integer(),
    cost_estimate: Nullable(Type.Number()),
    performance_metrics: FreeObject,
    metadata: FreeObject,
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'FlowExecution', additionalProperties: false, description: 'Complete flow execution record.' },
);

export const FlowExecutionList = Type.Object(
  {
    executions: Type.Array(Type.Ref(FlowExecution)),
    total_count: Type.Integer(),
    page: Type.Integer(),
    page_size: Type.Integer(),
    has_more: Type.Boolean(),
  },
  { $id: 'FlowExecutionList', additionalProperties: false },
);

const CURSOR_TEXT = {
  before: 'Extension: the page just before this execution of the list (its id), in list order.',
  after: 'Extension: the page just after this execution of the list (its id).',
};

export const FlowExecutionListQuery = Type.Object({
  flow_id: Type.Optional(Type.String({ maxLength: 255 })),
  agent_id: Type.Optional(Type.String({ format: 'uuid' })),
  status: Type.Optional(ExecutionStatus),
  trigger_type: Type.Optional(TriggerType),
  // (page - 1) × page_size stays within MAX_LIST_OFFSET.
  page: Type.Integer({ minimum: 1, maximum: MAX_LIST_OFFSET / 100, default: 1 }),
  page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  started_after: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'Extension: executions started at or after this time.',
      'x-parley-extension': true,
    }),
  ),
  started_before: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'Extension: executions started before this time.',
      'x-parley-extension': true,
    }),
  ),
  before: Type.Optional(Type.String({ format: 'uuid', description: CURSOR_TEXT.before, 'x-parley-extension': true })),
  after: Type.Optional(Type.String({ format: 'uuid', description: CURSOR_TEXT.after, 'x-parley-extension': true })),
});

const Priority = literals(PRIORITIES);

export const FlowExecutionCreate = Type.Object(
  {
    flow_id: Type.String({ minLength: 1, maxLength: 255 }),
    trigger_type: TriggerType,
    trigger_data: Type.Optional(Metadata),
    variables: Type.Optional(FreeObject),
    priority: Type.Optional(Priority),
    scheduled_at: Type.Optional(DateTime),
    timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    retry_config: Type.Optional(Type.Ref(RetryConfig)),
    metadata: Type.Optional(Metadata),
  },
  { $id: 'FlowExecutionCreate', additionalProperties: false },
);

export const FlowExecutionResponse = Type.Object(
  { execution: Type.Ref(FlowExecution), message: Type.String() },
  { $id: 'FlowExecutionResponse', additionalProperties: false },
);

export const FlowExecutionUpdate = Type.Object(
  {
    status: Type.Optional(ExecutionStatus),
    completed_at: Type.Optional(Nullable(DateTime)),
    // Bounded as every number an operation takes (test/http/text-values.test.ts): 30 days, 10^12 tokens, $10^9.
    duration_ms: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 2_592_000_000 }))),
    final_output: Type.Optional(Nullable(FreeObject)),
    error_message: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))),
    error_details: Type.Optional(Nullable(FreeObject)),
    retry_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    tokens_used: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }))),
    tool_calls_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    cost_estimate: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1_000_000_000 }))),
    performance_metrics: Type.Optional(Metadata),
    metadata: Type.Optional(Metadata),
  },
  { $id: 'FlowExecutionUpdate', additionalProperties: false },
);

export const FlowExecutionChange = Type.Object(
  {
    id: Uuid,
    execution_id: Type.String(),
    key_id: Nullable(Type.String()),
    field: Type.String(),
    old_value: Type.Unknown(),
    new_value: Type.Unknown(),
    changed_at: DateTime,
  },
  { $id: 'FlowExecutionChange', additionalProperties: false },
);

export const ExecutionParams = Type.Object({ execution_id: Type.String({ minLength: 1, maxLength: 255 }) });
