import {
  addFigures,
  periodAround,
  type Quota,
  type UsageFigures,
  type UsageGroup,
  type UsageGroupBy,
} from '../../domain/usage.js';
import { validationError } from '../../errors.js';
import type { Clock } from '../../ids.js';
import { publicStatus, readQuotaStatus } from '../../runtime/quota-admission.js';
import type { Store } from '../../storage/store.js';

const DAY_MS = 86_400_000;
const DEFAULT_WINDOW_DAYS = 30;
const MAX_WINDOW_DAYS = 400;

export interface UsageReport {
  group_by: UsageGroupBy;
  from: string;
  to: string;
  rows: UsageGroup[];
  total: UsageFigures;
}

/** The usage report and the organisation's quota (docs/usage.md). */
export class UsageService {
  constructor(private readonly dependencies: { store: Store; clock: Clock }) {}

  /**
   * Sums over the runs that ended in [from, to); 422 for a window backwards or over 400 days.
   * `to` defaults to the end of today (UTC), `from` to 30 days before `to`.
   */
  async report(input: {
    organizationId: string;
    groupBy: UsageGroupBy;
    from?: string | undefined;
    to?: string | undefined;
  }): Promise<UsageReport> {
    // By default the 30 UTC days up to and including today: runs that ended a moment ago count.
    const to = input.to === undefined ? periodAround('day', this.dependencies.clock.now()).end : new Date(input.to);
    const from =
      input.from === undefined ? new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS) : new Date(input.from);
    if (from.getTime() >= to.getTime()) throw validationError(['query', 'from'], '`from` must be before `to`');
    if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
      throw validationError(['query', 'to'], `The window may span at most ${MAX_WINDOW_DAYS} days`);
    }
    const window = { organizationId: input.organizationId, from: from.toISOString(), to: to.toISOString() };
    const rows = await this.dependencies.store.usage.summarize({ ...window, groupBy: input.groupBy });
    return { group_by: input.groupBy, from: window.from, to: window.to, rows, total: addFigures(rows) };
  }

  async quota(organizationId: string) {
    return publicStatus(
      await readQuotaStatus(this.dependencies.store, { organizationId, now: this.dependencies.clock.now() }),
    );
  }

  async setQuota(input: { organizationId: string; quota: Quota }) {
    const { store, clock } = this.dependencies;
    const now = clock.now();
    await store.write((writers) => writers.quotas.put({ ...input, now: now.toISOString() }));
    return publicStatus(await readQuotaStatus(store, { organizationId: input.organizationId, now }));
  }
}
