import type { Quota, QuotaPeriod } from '../../domain/usage.js';
import type { Executor } from './executor.js';
import type { OrganizationQuotaRow } from './schema.js';

function quotaRowToQuota(row: OrganizationQuotaRow): Quota {
  return {
    period: row.period as QuotaPeriod,
    max_tokens: row.max_tokens === null ? null : Number(row.max_tokens),
    max_cost: row.max_cost === null ? null : Number(row.max_cost),
  };
}

/** An organisation's budget (migration 0015): one row, keyed by the organisation. */
export class QuotaReader {
  constructor(private readonly db: Executor) {}

  async get(organizationId: string): Promise<Quota | null> {
    const row = await this.db
      .selectFrom('organization_quotas')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .executeTakeFirst();
    return row ? quotaRowToQuota(row) : null;
  }
}

export class QuotaWriter {
  constructor(private readonly db: Executor) {}

  /** Sets (replaces) the organisation's budget. */
  async put(input: { organizationId: string; quota: Quota; now: string }): Promise<Quota> {
    const values = { ...input.quota, updated_at: input.now };
    const row = await this.db
      .insertInto('organization_quotas')
      .values({ organization_id: input.organizationId, ...values })
      .onConflict((conflict) => conflict.column('organization_id').doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
    return quotaRowToQuota(row);
  }
}
