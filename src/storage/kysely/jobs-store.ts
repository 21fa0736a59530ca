import { SqliteAdapter, sql, type ExpressionBuilder } from 'kysely';
import type { JsonObject } from '../../domain/models.js';
import {
  ACTIVE_JOB_STATUSES,
  FINISHED_JOB_STATUSES,
  type Job,
  type JobErrorReason,
  type NewJob,
} from '../../domain/jobs.js';
import type { Database, JobRow } from './schema.js';
import type { Executor } from './executor.js';
import { claimOrder, ENQUEUE_ROWS_PER_STATEMENT, newJobRow, pastAttempts, rowToJob } from './job-rows.js';
import { readJobQueueFigures, type JobQueueFigures } from './job-queue-figures.js';

type JobsExpression = ExpressionBuilder<Database, 'jobs'>;

// The statuses are literals, not parameters: only then can the partial indexes jobs_claim and
// jobs_lease serve these scans (migration 0024).
const QUEUED = sql.lit('queued');
const RUNNING = sql.lit('running');
const queuedAndDue = (eb: JobsExpression, now: string) =>
  eb.and([eb('status', '=', QUEUED), eb('run_after', '<=', now)]);
const leaseLapsed = (eb: JobsExpression, now: string) =>
  eb.and([eb('status', '=', RUNNING), eb('lease_until', '<', now)]);
type Due = typeof queuedAndDue;

export type { Attempt, AttemptEnd, Lease } from './job-attempts.js';
import type { Attempt, AttemptEnd, Lease } from './job-attempts.js';

export class JobReader {
  constructor(private readonly db: Executor) {}

  /** Each queue's depth and oldest due job (metrics). */
  queueFigures(input: { now: string }): Promise<JobQueueFigures[]> {
    return readJobQueueFigures(this.db, input.now);
  }

  async get(input: { organizationId: string; id: string }): Promise<Job | null> {
    const row = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? rowToJob(row) : null;
  }

  /**
   * Whether a job of these kinds is due (what a claim would find), read without a write
   * transaction: an idle worker's poll costs two indexed reads, not a write lock.
   */
  async anyDue(input: { kinds: readonly string[]; now: string }): Promise<boolean> {
    if (input.kinds.length === 0) return false;
    for (const due of [queuedAndDue, leaseLapsed]) {
      const row = await this.db
        .selectFrom('jobs')
        .select('id')
        .where((eb) => due(eb, input.now))
        .where('kind', 'in', [...input.kinds])
        .limit(1)
        .executeTakeFirst();
      if (row) return true;
    }
    return false;
  }

  /** The subject's queued or running job, if any (at most one is enqueued at a time). */
  async active(input: { organizationId: string; subjectId: string }): Promise<Job | null> {
    const row = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('subject_id', '=', input.subjectId)
      .where('status', 'in', [...ACTIVE_JOB_STATUSES])
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row ? rowToJob(row) : null;
  }
}

/**
 * The queue's writes. A claim raises the job's `lease_token` (the fencing token), and every
 * later write of the attempt is conditional on it, so a worker that lost its lease — it stalled
 * past `lease_until` and another claimed the job — changes nothing of the job any more.
 */
export class JobWriter {
  readonly #reader: JobReader;

  constructor(private readonly db: Executor) {
    this.#reader = new JobReader(db);
  }

  active(input: { organizationId: string; subjectId: string }): Promise<Job | null> {
    return this.#reader.active(input);
  }

  /** Inserts the job in the caller's transaction: it exists exactly when the caller's rows commit. */
  async enqueue(job: NewJob): Promise<Job> {
    const [enqueued] = await this.enqueueMany([job]);
    return enqueued!;
  }

  /**
   * Inserts the jobs in the caller's transaction, in statements of up to ENQUEUE_ROWS_PER_STATEMENT
   * rows (a fan-out, a bulk enqueue): one round trip per statement instead of per job.
   */
  async enqueueMany(jobs: readonly NewJob[]): Promise<Job[]> {
    const rows = jobs.map(newJobRow);
    for (let start = 0; start < rows.length; start += ENQUEUE_ROWS_PER_STATEMENT) {
      await this.db
        .insertInto('jobs')
        .values(rows.slice(start, start + ENQUEUE_ROWS_PER_STATEMENT))
        .execute();
    }
    return rows.map(rowToJob);
  }

  /**
   * Claims up to `limit` due jobs for `lease.owner`, counting the attempt and raising each one's
   * fencing token: first running jobs whose lease lapsed (their worker died) unless `lapsed` is
   * false, then queued jobs with `run_after` passed, in claim order (the order of the result).
   * PostgreSQL: the candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers
   * pass over each other's rows, and are chosen and updated in one statement. SQLite has one
   * writer at a time, so the select and the update after it cannot interleave with another
   * claim. The update tests the due condition again either way.
   */
  async claim(input: {
    kinds: readonly string[];
    lease: Lease;
    limit: number;
    lapsed?: boolean;
    /**
     * The claim is its transaction's last statement, but for giving up claimed jobs past their
     * attempts: PostgreSQL's sort guard is then reset only when such a job was claimed (one round trip less).
     */
    last?: boolean;
  }): Promise<Job[]> {
    if (input.kinds.length === 0 || input.limit < 1) return [];
    const claimed: Job[] = [];
    const dues = input.lapsed === false ? [queuedAndDue] : [leaseLapsed, queuedAndDue];
    for (const due of dues) {
      const limit = input.limit - claimed.length;
      if (limit < 1) break;
      const rows = this.#sqlite()
        ? await this.#claimSqlite(input.kinds, input.lease, limit, due)
        : await this.#claimPostgres(
            input.kinds,
            input.lease,
            limit,
            due,
            input.last === true && !claimed.some(pastAttempts),
          );
      claimed.push(...rows.map(rowToJob));
    }
    return claimed.sort(claimOrder);
  }

  #sqlite(): boolean {
    return this.db.getExecutor().adapter instanceof SqliteAdapter;
  }

  /** What a claim writes: the attempt counted, the fencing token raised, the lease taken. */
  #claimed(eb: JobsExpression, lease: Lease) {
    return {
      status: 'running',
      attempts: eb('attempts', '+', 1),
      lease_token: eb('lease_token', '+', 1),
      lease_owner: lease.owner,
      lease_until: lease.until,
      started_at: eb.fn.coalesce('started_at', eb.val(lease.now)),
      updated_at: lease.now,
    } as const;
  }

  async #claimSqlite(kinds: readonly string[], lease: Lease, limit: number, due: Due): Promise<JobRow[]> {
    const candidates = await this.#candidates(kinds, lease.now, due).limit(limit).execute();
    if (candidates.length === 0) return [];
    return this.db
      .updateTable('jobs')
      .set((eb) => this.#claimed(eb, lease))
      .where(
        'id',
        'in',
        candidates.map((row) => row.id),
      )
      .where((eb) => due(eb, lease.now))
      .returningAll()
      .execute();
  }

  /**
   * One statement: the candidates, locked (a MATERIALIZED CTE runs once, so the LIMIT holds),
   * then updated. PostgreSQL, with statistics taken while the table was small (a burst of
   * enqueues outruns autovacuum's ANALYZE), planned the candidates as a bitmap scan of every
   * queued job and a sort: 35 ms a claim with 29,000 queued, and bench:queue fell from 3,090 to
   * 905 jobs/s between 2,000 and 30,000 jobs. With sorting off for this one statement it walks
   * jobs_claim in order and stops at `limit`.
   */
  async #claimPostgres(
    kinds: readonly string[],
    lease: Lease,
    limit: number,
    due: Due,
    last: boolean,
  ): Promise<JobRow[]> {
    const ordered = due === queuedAndDue;
    // Not awaited before the claim is sent: both leave in one round trip (the writer's client
    // pipelines, ADR 0033), and the server runs them in order. Both go through the same
    // executor path, so the guard's statement is sent first.
    const guard = ordered ? sql`set local enable_sort = off`.execute(this.db) : null;
    const claiming = this.db
      .with(
        (cte) => cte('candidates').materialized(),
        () => this.#candidates(kinds, lease.now, due).limit(limit).forUpdate().skipLocked(),
      )
      .updateTable('jobs')
      .set((eb) => this.#claimed(eb, lease))
      .where('id', 'in', (eb) => eb.selectFrom('candidates').select('candidates.id'))
      .where((eb) => due(eb, lease.now))
      .returningAll()
      .execute();
    const [rows] = await Promise.all([claiming, guard]);
    const givingUp = rows.map(rowToJob).some(pastAttempts);
    if (ordered && (!last || givingUp)) await sql`set local enable_sort to default`.execute(this.db);
    return rows;
  }

  /** The due jobs of these kinds, queued ones in claim order (jobs_claim's order). */
  #candidates(kinds: readonly string[], now: string, due: Due) {
    return this.db
      .selectFrom('jobs')
      .select('id')
      .where((eb) => due(eb, now))
      .where('kind', 'in', [...kinds])
      .$if(due === queuedAndDue, (query) => query.orderBy('priority', 'desc').orderBy('run_after').orderBy('id'));
  }

  /** Extends the lease; false when the attempt no longer holds it (lost, cancelled or finished). */
  async renew(input: Attempt & { until: string; now: string }): Promise<boolean> {
    const result = await this.#held(input).set({ lease_until: input.until, updated_at: input.now }).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records the running job's progress; false when the attempt no longer holds the lease. */
  async progress(input: Attempt & { progress: JsonObject; now: string }): Promise<boolean> {
    const result = await this.#held(input)
      .set({ progress: JSON.stringify(input.progress), updated_at: input.now })
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Ends the job (`succeeded` or `failed`) if the attempt still holds it; `token` null ends it
   * whichever attempt held it (giving up on a job whose lease lapsed in this same transaction's
   * claim). False when it was not this attempt's.
   */
  async finish(input: {
    id: string;
    token: number | null;
    status: 'succeeded' | 'failed';
    errorMessage: string | null;
    errorReason?: JobErrorReason | undefined;
    progress?: JsonObject | undefined;
    now: string;
  }): Promise<boolean> {
    let query = this.db
      .updateTable('jobs')
      .set({
        status: input.status,
        error_message: input.errorMessage,
        ...(input.errorReason === undefined ? {} : { error_reason: input.errorReason }),
        lease_owner: null,
        lease_until: null,
        finished_at: input.now,
        updated_at: input.now,
        ...(input.progress ? { progress: JSON.stringify(input.progress) } : {}),
      })
      .where('id', '=', input.id)
      .where('status', '=', 'running');
    if (input.token !== null) query = query.where('lease_token', '=', input.token);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Ends many attempts in the caller's transaction (the worker's batch of ends, see
   * JobWorker); returns the ids of the jobs it ended — those whose attempt still held them.
   * Plain successes (no message, no progress) end in one statement; the others one by one.
   */
  async finishMany(input: { ends: readonly AttemptEnd[]; now: string }): Promise<Set<string>> {
    const plain = input.ends.filter((end) => end.status === 'succeeded' && end.errorMessage === null && !end.progress);
    const ended = new Set<string>();
    if (plain.length > 0) {
      const rows = await this.db
        .updateTable('jobs')
        .set({ status: 'succeeded', error_message: null, lease_owner: null, lease_until: null })
        .set({ finished_at: input.now, updated_at: input.now })
        .where('status', '=', 'running')
        .where((eb) => eb.or(plain.map((end) => eb.and([eb('id', '=', end.id), eb('lease_token', '=', end.token)]))))
        .returning('id')
        .execute();
      for (const row of rows) ended.add(row.id);
    }
    for (const end of input.ends) {
      if (plain.includes(end)) continue;
      if (await this.finish({ ...end, now: input.now })) ended.add(end.id);
    }
    return ended;
  }

  /**
   * Gives the job back to the queue, due at `runAfter`. `countAttempt` false undoes the claim's
   * count (a graceful stop is not an interruption); true keeps it (a retry after an error).
   */
  async release(
    input: Attempt & {
      runAfter: string;
      countAttempt: boolean;
      /** Why the attempt ended, kept as the last error; the stored one is kept when absent. */
      error?: { message: string; reason: JobErrorReason } | undefined;
      now: string;
    },
  ): Promise<boolean> {
    const result = await this.#held(input)
      .set((eb) => ({
        status: 'queued',
        lease_owner: null,
        lease_until: null,
        run_after: input.runAfter,
        updated_at: input.now,
        ...(input.countAttempt ? {} : { attempts: eb('attempts', '-', 1) }),
        ...(input.error === undefined ? {} : { error_message: input.error.message, error_reason: input.error.reason }),
      }))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Cancels the subject's queued or running job (its subject was cancelled): a queued one is
   * never claimed, a running one loses its lease — its next renewal fails and aborts the
   * handler, in whichever process runs it. Returns the jobs' ids.
   */
  async cancelForSubject(input: { organizationId: string; subjectId: string; now: string }): Promise<string[]> {
    const rows = await this.db
      .updateTable('jobs')
      .set({ status: 'cancelled', lease_owner: null, lease_until: null, finished_at: input.now, updated_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('subject_id', '=', input.subjectId)
      .where('status', 'in', [...ACTIVE_JOB_STATUSES])
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /** Deletes every job of these subjects (they are being deleted); a running one loses its lease. */
  async deleteForSubjects(input: { organizationId: string; subjectIds: readonly string[] }): Promise<void> {
    if (input.subjectIds.length === 0) return;
    await this.db
      .deleteFrom('jobs')
      .where('organization_id', '=', input.organizationId)
      .where('subject_id', 'in', [...input.subjectIds])
      .execute();
  }

  /** Retention: deletes up to `limit` jobs that finished before `before`; returns how many. */
  async trimFinished(input: { before: string; limit: number }): Promise<number> {
    const result = await this.db
      .deleteFrom('jobs')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('jobs')
          .select('id')
          .where('status', 'in', [...FINISHED_JOB_STATUSES])
          .where('finished_at', '<', input.before)
          .limit(input.limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The update of a running attempt that still holds its lease (the fencing token matches). */
  #held(attempt: Attempt) {
    return this.db
      .updateTable('jobs')
      .where('id', '=', attempt.id)
      .where('status', '=', 'running')
      .where('lease_token', '=', attempt.token);
  }
}
