import type { JsonObject } from '../../domain/models.js';
import { parseJson, type Executor } from './executor.js';

/** A schedule the scheduler fires (docs/flows.md#schedules), with its organisation carried along. */
export interface DueSchedule {
  id: string;
  organization_id: string;
  flow_id: string;
  cron: string;
  timezone: string;
  variables: JsonObject;
  /** The slot it is due at (ISO UTC); `<=` the scheduler's now. */
  next_run_at: string;
}

export class FlowScheduleReader {
  constructor(private readonly db: Executor) {}

  /**
   * Schedules of every organisation due at `now` (`next_run_at <= now`), longest overdue first
   * (index `flow_schedules_due`). Across tenants on purpose: the scheduler serves them all, and
   * every write it makes for one is scoped by the row's own `organization_id`.
   */
  async due(input: { now: string; limit: number }): Promise<DueSchedule[]> {
    const rows = await this.db
      .selectFrom('flow_schedules')
      .select(['id', 'organization_id', 'flow_id', 'cron', 'timezone', 'variables', 'next_run_at'])
      .where('next_run_at', '<=', input.now)
      .orderBy('next_run_at')
      .orderBy('id')
      .limit(input.limit)
      .execute();
    return rows.map((row) => ({ ...row, variables: parseJson<JsonObject>(row.variables) }));
  }
}

export class FlowScheduleWriter {
  constructor(private readonly db: Executor) {}

  /**
   * Moves a due schedule's `next_run_at` to `next`: true when this caller did. False when the
   * schedule is gone (its flow deleted, or a PUT replaced it) or no longer due (another process
   * advanced it first). On PostgreSQL the update locks the row, so of two schedulers the second
   * waits, re-reads `next_run_at` and finds it advanced; SQLite serialises the writes.
   */
  async advance(input: { organizationId: string; id: string; dueBy: string; next: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('flow_schedules')
      .set({ next_run_at: input.next })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('next_run_at', '<=', input.dueBy)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
