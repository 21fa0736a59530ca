import { periodAround, quotaAdmits, type Quota, type QuotaStatus } from '../domain/usage.js';
import { AppError } from '../errors.js';
import type { Store } from '../storage/store.js';

/** What an organisation without a quota is shown: no limits, the calendar month's use. */
export const NO_QUOTA: Quota = { period: 'month', max_tokens: null, max_cost: null };

/**
 * The organisation's budget with what its current period has used (the runs that ended in it,
 * from the usage ledger), or the month's use under no limits when it has no quota.
 */
export async function readQuotaStatus(
  store: Store,
  input: { organizationId: string; now: Date },
): Promise<QuotaStatus> {
  const quota = (await store.quotas.get(input.organizationId)) ?? NO_QUOTA;
  return statusOf(store, { ...input, quota });
}

/**
 * Refuses a run the organisation's quota has no room for: 429 `quota_exceeded` with the
 * budget, the use so far and the reset time in the body and `Retry-After` (seconds to the reset).
 * Cheap: one primary-key read, and one indexed sum over the period only when a limit is set.
 *
 * Runs already under way are not counted until they end, so runs admitted together may spend
 * past the budget (docs/usage.md, "Overshoot").
 */
export async function requireQuotaRoom(store: Store, input: { organizationId: string; now: Date }): Promise<void> {
  const quota = await store.quotas.get(input.organizationId);
  if (!quota || (quota.max_tokens === null && quota.max_cost === null)) return;
  const status = await statusOf(store, { ...input, quota });
  if (quotaAdmits(status)) return;
  const seconds = Math.max(1, Math.ceil((Date.parse(status.resets_at) - input.now.getTime()) / 1000));
  throw new AppError('quota_exceeded', {
    headers: { 'retry-after': String(seconds) },
    extra: { quota: publicStatus(status) },
  });
}

/** The status as the API shows it (GET /api/v1/quota and the 429 body). */
export function publicStatus(status: QuotaStatus): Omit<QuotaStatus, 'period_start'> {
  const { period_start: _start, ...shown } = status;
  return shown;
}

async function statusOf(
  store: Store,
  input: { organizationId: string; now: Date; quota: Quota },
): Promise<QuotaStatus> {
  const { start, end } = periodAround(input.quota.period, input.now);
  const spent = await store.usage.spentSince({ organizationId: input.organizationId, since: start.toISOString() });
  return {
    ...input.quota,
    used_tokens: spent.tokens,
    used_cost: spent.cost,
    period_start: start.toISOString(),
    resets_at: end.toISOString(),
  };
}
