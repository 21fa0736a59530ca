import { SqliteAdapter, type ExpressionBuilder } from 'kysely';
import type { JsonObject } from '../../domain/models.js';
import { ACTIVE_JOB_STATUSES, type Job, type JobStatus, type NewJob } from '../../domain/jobs.js';
import type { Database, JobRow } from './schema.js';
import { parseJson, type Executor } from './executor.js';

function rowToJob(row: JobRow): Job {
  return {
    ...row,
    // Only this store writes the column, and only with the queue's statuses.
    status: row.status as JobStatus,
    attempts: Number(row.attempts),
    max_attempts: Number(row.max_attempts),
    progress: parseJson<JsonObject>(row.progress),
  };
}

/** A job a claim may take at `now`: queued and due, or running with a lapsed lease (its worker died). */
function dueJob(eb: ExpressionBuilder<Database, 'jobs'>, now: string) {
  return eb.or([
    eb.and([eb('status', '=', 'queued'), eb('run_after', '<=', now)]),
    eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)]),
  ]);
}

/** The lease a claim or renewal writes: who holds the job and until when. */
export interface Lease {
  owner: string;
  /** ISO time the lease lapses at. */
  until: string;
  now: string;
}

export class JobReader {
  constructor(private readonly db: Executor) {}

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
   * transaction: an idle worker's poll costs one indexed read, not a write lock.
   */
  async anyDue(input: { kinds: readonly string[]; now: string }): Promise<boolean> {
    if (input.kinds.length === 0) return false;
    const row = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('kind', 'in', [...input.kinds])
      .where((eb) => dueJob(eb, input.now))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
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
 * The queue's writes. A claim and every later write of a running job are conditional on the
 * lease (`lease_owner` = the claimer), so a worker that lost its lease — it stalled past
 * `lease_until` and another claimed the job — changes nothing of the job any more.
 */
export class JobWriter {
  readonly #reader: JobReader;

  constructor(private readonly db: Executor) {
    this.#reader = new JobReader(db);
  }

  active(input: { organizationId: string; subjectId: string }): Promise<Job | null> {
    return this.#reader.active(input);
  }

  async enqueue(job: NewJob): Promise<Job> {
    const row: JobRow = {
      id: job.id,
      organization_id: job.organization_id,
      kind: job.kind,
      subject_id: job.subject_id,
      status: 'queued',
      attempts: 0,
      max_attempts: job.max_attempts,
      run_after: job.now,
      lease_owner: null,
      lease_until: null,
      progress: JSON.stringify(job.progress),
      error_message: null,
      created_at: job.now,
      updated_at: job.now,
      started_at: null,
      finished_at: null,
    };
    await this.db.insertInto('jobs').values(row).execute();
    return rowToJob(row);
  }

  /**
   * Claims the job that has waited longest among those due — queued with `run_after` passed, or
   * running with a lapsed lease (its worker died) — for `lease.owner`, counting the attempt.
   * PostgreSQL: the candidate row is locked with `FOR UPDATE SKIP LOCKED`, so concurrent
   * claimers pass over each other's rows. SQLite has one writer at a time, so the select and the
   * compare-and-set update after it (the same on both) cannot interleave with another claim.
   */
  async claim(input: { kinds: readonly string[]; lease: Lease }): Promise<Job | null> {
    const { lease } = input;
    if (input.kinds.length === 0) return null;
    const sqlite = this.db.getExecutor().adapter instanceof SqliteAdapter;
    const candidate = await this.db
      .selectFrom('jobs')
      .select(['id', 'status', 'lease_until'])
      .where('kind', 'in', [...input.kinds])
      .where((eb) => dueJob(eb, lease.now))
      .orderBy('run_after', 'asc')
      .orderBy('id', 'asc')
      .limit(1)
      .$if(!sqlite, (query) => query.forUpdate().skipLocked())
      .executeTakeFirst();
    if (!candidate) return null;
    const row = await this.db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        attempts: eb('attempts', '+', 1),
        lease_owner: lease.owner,
        lease_until: lease.until,
        started_at: eb.fn.coalesce('started_at', eb.val(lease.now)),
        updated_at: lease.now,
      }))
      .where('id', '=', candidate.id)
      .where('status', '=', candidate.status)
      .where((eb) =>
        candidate.lease_until === null ? eb('lease_until', 'is', null) : eb('lease_until', '=', candidate.lease_until),
      )
      .returningAll()
      .executeTakeFirst();
    return row ? rowToJob(row) : null;
  }

  /** Extends the lease; false when it is no longer the owner's (lost, cancelled or finished). */
  async renew(input: { id: string; lease: Lease }): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ lease_until: input.lease.until, updated_at: input.lease.now })
      .where('id', '=', input.id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', input.lease.owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records the running job's progress; false when the lease is no longer the owner's. */
  async progress(input: { id: string; owner: string; progress: JsonObject; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ progress: JSON.stringify(input.progress), updated_at: input.now })
      .where('id', '=', input.id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', input.owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Ends the job (`succeeded` or `failed`) if the owner still holds it; `owner` null ends it
   * whoever held it (giving up on a job whose lease lapsed). False when it was not this owner's.
   */
  async finish(input: {
    id: string;
    owner: string | null;
    status: 'succeeded' | 'failed';
    errorMessage: string | null;
    progress?: JsonObject | undefined;
    now: string;
  }): Promise<boolean> {
    let query = this.db
      .updateTable('jobs')
      .set({
        status: input.status,
        error_message: input.errorMessage,
        lease_owner: null,
        lease_until: null,
        finished_at: input.now,
        updated_at: input.now,
        ...(input.progress ? { progress: JSON.stringify(input.progress) } : {}),
      })
      .where('id', '=', input.id)
      .where('status', '=', 'running');
    if (input.owner !== null) query = query.where('lease_owner', '=', input.owner);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Gives the job back to the queue, due at `runAfter`. `countAttempt` false undoes the claim's
   * count (a graceful stop is not an interruption); true keeps it (a retry after an error).
   */
  async release(input: {
    id: string;
    owner: string;
    runAfter: string;
    countAttempt: boolean;
    /** Why the attempt ended, kept for the give-up message; the stored one is kept when absent. */
    errorMessage?: string | undefined;
    now: string;
  }): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'queued',
        lease_owner: null,
        lease_until: null,
        run_after: input.runAfter,
        updated_at: input.now,
        ...(input.countAttempt ? {} : { attempts: eb('attempts', '-', 1) }),
        ...(input.errorMessage === undefined ? {} : { error_message: input.errorMessage }),
      }))
      .where('id', '=', input.id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', input.owner)
      .execute();
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
}
