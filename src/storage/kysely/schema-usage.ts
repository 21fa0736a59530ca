import type { RunUsageRecord } from '../../domain/usage.js';

/** Row types of usage and quotas (migration 0015); part of `Database` in schema.ts. */

/** One ended run's tokens and cost (migration 0015); kept when its agent or thread is deleted. */
export type RunUsageRow = RunUsageRecord;

/** An organisation's budget per period (migration 0015); null: no limit. */
export interface OrganizationQuotaRow {
  organization_id: string;
  period: string;
  max_tokens: number | null;
  max_cost: number | null;
  updated_at: string;
}
