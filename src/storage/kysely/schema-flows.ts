/** Row types of flows (migration 0016); part of `Database` in schema.ts. */

export interface FlowRow {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  description: string | null;
  instructions: string;
  /** JSON array of `FlowVariable`. */
  variables: string;
  /** JSON array of tool names. */
  tools: string;
  /** JSON Schema (JSON text), or null: the answer is text. */
  output_schema: string | null;
  timeout_seconds: number | null;
  priority: string | null;
  /** JSON `RetryConfig`, or null. */
  retry_config: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
}

export interface FlowScheduleRow {
  id: string;
  organization_id: string;
  flow_id: string;
  position: number;
  cron: string;
  timezone: string;
  /** JSON object: the variables an execution of this schedule gets. */
  variables: string;
  /** The next slot the scheduler fires (ISO UTC). */
  next_run_at: string;
  created_at: string;
}

/** A fired schedule slot: at most one per (schedule, slot time), across processes. */
export interface FlowScheduleSlotRow {
  schedule_id: string;
  slot_at: string;
  organization_id: string;
  execution_id: string;
  created_at: string;
}

/** One changed field of a PATCH of an execution. */
export interface FlowExecutionChangeRow {
  id: string;
  organization_id: string;
  execution_id: string;
  key_id: string | null;
  field: string;
  /** JSON text; null when the field had no value. */
  old_value: string | null;
  new_value: string | null;
  changed_at: string;
}
