import { sql } from 'kysely';
import type { Executor } from './executor.js';

/** One queue (job kind) at a moment: its queued jobs, and when the oldest due one became due. */
export interface JobQueueFigures {
  queue: string;
  depth: number;
  /** The earliest `run_after` at or before `now` among its queued jobs; null when none is due yet. */
  oldestDueAt: string | null;
}

/**
 * Every queue's depth and oldest due job in one grouped read of the queued jobs (the metrics
 * scrape's, docs/observability.md). Times are ISO strings in both dialects, so the earliest
 * string is the earliest time.
 */
export async function readJobQueueFigures(db: Executor, now: string): Promise<JobQueueFigures[]> {
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => [
      'kind',
      eb.fn.countAll<number>().as('depth'),
      sql<string | null>`min(case when ${eb.ref('run_after')} <= ${now} then ${eb.ref('run_after')} end)`.as('due'),
    ])
    .where('status', '=', sql.lit('queued'))
    .groupBy('kind')
    .orderBy('kind')
    .execute();
  return rows.map((row) => ({ queue: row.kind, depth: Number(row.depth), oldestDueAt: row.due }));
}
