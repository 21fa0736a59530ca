import type { ExecutionStatus, JsonObject, Priority } from './models.js';

/** Flows (docs/flows.md): an agent's reusable task, run as flow executions by the job queue. */

export const VARIABLE_TYPES = ['string', 'number', 'boolean', 'object', 'array'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface FlowVariable {
  name: string;
  type: VariableType;
  required: boolean;
  /** Filled in when an execution does not give the variable; null: none. */
  default: unknown;
}

export const RETRY_ON = ['failed', 'timeout'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/** How a failed or timed-out execution is retried: as a new execution after the backoff. */
export interface RetryConfig {
  max_retries: number;
  backoff: 'exponential' | 'fixed';
  initial_delay_ms: number;
  max_delay_ms: number;
  retry_on: RetryOn[];
}

export interface FlowSchedule {
  id: string;
  cron: string;
  timezone: string;
  variables: JsonObject;
  /** The next slot (ISO UTC) the scheduler will fire. */
  next_run_at: string;
}

export interface Flow {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  description: string | null;
  instructions: string;
  variables: FlowVariable[];
  /** Names of the agent's tools the flow may use; empty: none. */
  tools: string[];
  output_schema: JsonObject | null;
  timeout_seconds: number | null;
  priority: Priority | null;
  retry_config: RetryConfig | null;
  schedules: FlowSchedule[];
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
}

export type NewFlow = Flow;

/** What a PUT/PATCH may change; absent fields stay. */
export type FlowChanges = Partial<
  Pick<
    Flow,
    | 'name'
    | 'description'
    | 'instructions'
    | 'variables'
    | 'tools'
    | 'output_schema'
    | 'timeout_seconds'
    | 'priority'
    | 'retry_config'
    | 'schedules'
    | 'metadata'
  >
>;

/** The statuses an execution ends in; it never leaves them for pending/queued/running. */
export const FINISHED_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled', 'timeout'];

export function isFinished(status: ExecutionStatus): boolean {
  return FINISHED_EXECUTION_STATUSES.includes(status);
}

/** The defaults of an execution that names none (the contract's FlowExecution defaults). */
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_RETRY: RetryConfig = {
  max_retries: 3,
  backoff: 'exponential',
  initial_delay_ms: 1000,
  max_delay_ms: 60_000,
  retry_on: ['failed', 'timeout'],
};

/** One audited field change of an execution (PATCH). */
export interface FlowExecutionChange {
  id: string;
  execution_id: string;
  key_id: string | null;
  field: string;
  old_value: unknown;
  new_value: unknown;
  changed_at: string;
}
