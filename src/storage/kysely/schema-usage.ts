/** Row types of usage and quotas (migration 0015); part of `Database` in schema.ts. */

/** One ended run's tokens and cost (migration 0015); kept when its agent or thread is deleted. */
export interface RunUsageRow {
  run_id: string;
  organization_id: string;
  agent_id: string;
  thread_id: string | null;
  message_id: string | null;
  model: string;
  status: string;
  input_tokens: number;
  output_tokens: number;
  /** USD; null when the model has no price. */
  cost: number | null;
  started_at: string;
  ended_at: string;
}

/** An organisation's budget per period (migration 0015); null: no limit. */
export interface OrganizationQuotaRow {
  organization_id: string;
  period: string;
  max_tokens: number | null;
  max_cost: number | null;
  updated_at: string;
}
