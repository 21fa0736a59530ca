import { sql } from 'kysely';
import type { RunUsageRecord, UsageGroup, UsageGroupBy, UsageWindow } from '../../domain/usage.js';
import type { Executor } from './executor.js';

/**
 * The usage ledger (migration 0015): one row per ended run. Every read is one statement over
 * `run_usage_organization_ended`, scoped to the organisation in its WHERE clause.
 */
export class UsageReader {
  constructor(private readonly db: Executor) {}

  /**
   * The runs that ended in the window, summed per UTC day, agent or model, in key order.
   * Timestamps are stored as ISO-8601 UTC text, so the day is the first ten characters.
   */
  async summarize(input: UsageWindow & { groupBy: UsageGroupBy }): Promise<UsageGroup[]> {
    const key =
      input.groupBy === 'day'
        ? sql<string>`substr(ended_at, 1, 10)`
        : input.groupBy === 'agent'
          ? sql<string>`agent_id`
          : sql<string>`model`;
    const rows = await this.db
      .selectFrom('run_usage')
      .where('organization_id', '=', input.organizationId)
      .where('ended_at', '>=', input.from)
      .where('ended_at', '<', input.to)
      .select([
        key.as('key'),
        sql<number>`count(*)`.as('runs'),
        sql<number>`sum(input_tokens)`.as('input_tokens'),
        sql<number>`sum(output_tokens)`.as('output_tokens'),
        sql<number | null>`sum(cost)`.as('cost'),
        sql<number>`sum(case when cost is null then 1 else 0 end)`.as('unpriced_runs'),
      ])
      .groupBy(key)
      .orderBy(key)
      .execute();
    // PostgreSQL sums bigints as numeric, which arrives as text.
    return rows.map((row) => {
      const inputTokens = Number(row.input_tokens);
      const outputTokens = Number(row.output_tokens);
      return {
        key: row.key,
        runs: Number(row.runs),
        input_tokens: inputTokens,
        output_tokens: outputTokens,
        total_tokens: inputTokens + outputTokens,
        cost: row.cost === null ? null : Number(row.cost),
        unpriced_runs: Number(row.unpriced_runs),
      };
    });
  }

  /** Tokens and (priced) cost of the organisation's runs that ended at or after `since`. */
  async spentSince(input: { organizationId: string; since: string }): Promise<{ tokens: number; cost: number }> {
    const row = await this.db
      .selectFrom('run_usage')
      .where('organization_id', '=', input.organizationId)
      .where('ended_at', '>=', input.since)
      .select([
        sql<number>`coalesce(sum(input_tokens + output_tokens), 0)`.as('tokens'),
        sql<number>`coalesce(sum(cost), 0)`.as('cost'),
      ])
      .executeTakeFirstOrThrow();
    return { tokens: Number(row.tokens), cost: Number(row.cost) };
  }
}

export class UsageWriter {
  constructor(private readonly db: Executor) {}

  /** Records an ended run's spend (once: a run ends once, and its id is the key). */
  async record(record: RunUsageRecord): Promise<void> {
    await this.db
      .insertInto('run_usage')
      .values(record)
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
}
