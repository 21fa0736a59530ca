/**
 * Usage, cost and quotas (docs/usage.md): what a run spent, the sums the usage report gives,
 * and an organisation's budget per period.
 */

/** One ended run's spend, as the ledger keeps it. `cost` is USD, null when the model has no price. */
export interface RunUsageRecord {
  run_id: string;
  organization_id: string;
  agent_id: string;
  thread_id: string | null;
  message_id: string | null;
  model: string;
  status: string;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  started_at: string;
  ended_at: string;
}

export type UsageGroupBy = 'day' | 'agent' | 'model';
export const USAGE_GROUP_BYS: readonly UsageGroupBy[] = ['day', 'agent', 'model'];

/**
 * The sums over a set of runs. `cost` adds the priced runs only and is null when none was
 * priced; `unpriced_runs` says how many the sum leaves out.
 */
export interface UsageFigures {
  runs: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost: number | null;
  unpriced_runs: number;
}

export interface UsageGroup extends UsageFigures {
  /** The UTC day (`YYYY-MM-DD`), the agent id or the model id. */
  key: string;
}

/** The runs of one organisation that ended in [`from`, `to`), ISO-8601 UTC. */
export interface UsageWindow {
  organizationId: string;
  from: string;
  to: string;
}

export type QuotaPeriod = 'day' | 'month';
export const QUOTA_PERIODS: readonly QuotaPeriod[] = ['day', 'month'];

/** An organisation's budget: null is no limit. */
export interface Quota {
  period: QuotaPeriod;
  max_tokens: number | null;
  max_cost: number | null;
}

/** A quota with what the current period has used so far and when it starts afresh. */
export interface QuotaStatus extends Quota {
  used_tokens: number;
  used_cost: number;
  period_start: string;
  resets_at: string;
}

/** The period `now` falls in, in UTC: [start, end). */
export function periodAround(period: QuotaPeriod, now: Date): { start: Date; end: Date } {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  if (period === 'month')
    return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
  const day = now.getUTCDate();
  return { start: new Date(Date.UTC(year, month, day)), end: new Date(Date.UTC(year, month, day + 1)) };
}

/**
 * Whether a new run may start: every limit set must still have room (used below it). A budget
 * of 0 admits nothing; a budget exactly used up admits nothing more.
 */
export function quotaAdmits(status: QuotaStatus): boolean {
  const tokensLeft = status.max_tokens === null || status.used_tokens < status.max_tokens;
  const costLeft = status.max_cost === null || status.used_cost < status.max_cost;
  return tokensLeft && costLeft;
}

/** Sums figures (the report's total over its groups). */
export function addFigures(groups: readonly UsageFigures[]): UsageFigures {
  const total: UsageFigures = {
    runs: 0,
    input_tokens: 0,
    output_tokens: 0,
    total_tokens: 0,
    cost: null,
    unpriced_runs: 0,
  };
  for (const group of groups) {
    total.runs += group.runs;
    total.input_tokens += group.input_tokens;
    total.output_tokens += group.output_tokens;
    total.total_tokens += group.total_tokens;
    total.unpriced_runs += group.unpriced_runs;
    if (group.cost !== null) total.cost = (total.cost ?? 0) + group.cost;
  }
  return total;
}
