import type pg from 'pg';
import type { Executor } from './executor.js';
import { query, unitViewOf } from './postgres-client.js';

const DEFAULT_MAX_BATCH_SIZE = 500;

type Work<T> = (db: Executor) => Promise<T>;
type Outcome = { ok: true; value: unknown } | { ok: false; value: unknown };

interface PendingWrite {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** PostgreSQL ended the transaction with ROLLBACK: a statement error was swallowed by a unit. */
export class TransactionAbortedError extends Error {
  constructor() {
    super('the transaction was aborted by an earlier statement error and rolled back');
  }
}

/**
 * Group commit for PostgreSQL (ADR 0033). Write units that arrive in the same event-loop turn
 * form a batch that runs in one `BEGIN … COMMIT` on one client of the writer's own pool, which is
 * in pipeline mode: the units run concurrently, so their statements travel together — a batch
 * of N thread creates costs about four round trips and one WAL flush instead of 4·N and N. Up to
 * `maxConcurrentBatches` batches run at once, each on its own client, so while one waits for its
 * commit the next is already being written.
 *
 * Units of one batch interleave inside one transaction: each sees the others' uncommitted writes,
 * and since they all commit or none does, that is as if they had run one after another in some
 * order. A unit that fails is rolled back alone and rejects alone: the batch is retried one unit
 * after another, each in a savepoint (as GroupCommitWriter does on SQLite). No unit's promise
 * settles before the COMMIT that holds it returned, so no response is sent for a write that
 * could still be lost. Units must only touch the database and may run twice.
 */
export class PostgresGroupCommitWriter {
  readonly #pool: pg.Pool;
  readonly #maxBatchSize: number;
  readonly #maxConcurrentBatches: number;
  #queue: PendingWrite[] = [];
  #inFlight = 0;
  #scheduled = false;
  #idle: (() => void)[] = [];
  #batchSizes = { batches: 0, units: 0 };
  readonly #batchListeners = new Set<(size: number) => void>();

  constructor(pool: pg.Pool, options: { maxBatchSize?: number; maxConcurrentBatches: number }) {
    this.#pool = pool;
    this.#maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.#maxConcurrentBatches = Math.max(1, options.maxConcurrentBatches);
  }

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves once everything queued so far has been committed (or has failed). */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** `listener` is called with the size of every batch committed from now on (metrics), until the returned stop. */
  onBatch(listener: (size: number) => void): () => void {
    this.#batchListeners.add(listener);
    return () => void this.#batchListeners.delete(listener);
  }

  /** Counters for benchmarks and diagnostics: how many units each commit carried on average. */
  get statistics(): { batches: number; units: number } {
    return { ...this.#batchSizes };
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxConcurrentBatches) return;
    this.#scheduled = true;
    // setImmediate runs after the poll phase: every request read in this loop turn joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#queue.length > 0 && this.#inFlight < this.#maxConcurrentBatches) {
        void this.#runBatch(this.#queue.splice(0, this.#maxBatchSize));
      }
      if (this.#queue.length > 0) this.#schedule();
    });
  }

  async #runBatch(batch: PendingWrite[]): Promise<void> {
    this.#inFlight += 1;
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    try {
      client = await this.#pool.connect();
      // A connection lost mid-batch fails the batch's queries; unheard, the client's 'error'
      // event would also crash the process (pg-pool listens only while a client is idle).
      client.on('error', noteLost);
      const outcomes = await this.#commit(client, batch);
      this.#batchSizes.batches += 1;
      this.#batchSizes.units += batch.length;
      for (const listener of this.#batchListeners) listener(batch.length);
      batch.forEach((pending, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.value);
      });
    } catch (error) {
      // No client, BEGIN/COMMIT failed or the connection broke: nothing of this batch is known
      // committed, and the client (if any) is discarded rather than reused in an unknown state.
      broken = error instanceof Error ? error : new Error(String(error));
      for (const pending of batch) pending.reject(error);
    } finally {
      client?.off('error', noteLost);
      client?.release(broken);
      this.#inFlight -= 1;
      if (this.#queue.length > 0) this.#schedule();
      else if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /**
   * First optimistically: every unit at once, so their statements are pipelined on the client
   * (one round trip carries the batch's first statements, the next its second ones, …) in one
   * transaction without savepoints. If a unit failed, that transaction is rolled back and the
   * batch runs again one unit after another, each inside a savepoint, so the failing one is
   * undone alone. A batch of one needs no second run: its transaction is its own.
   */
  async #commit(client: pg.PoolClient, batch: PendingWrite[]): Promise<Outcome[]> {
    const db = unitViewOf(client);
    const optimistic = await allAtOnce(
      client,
      batch.map((pending) => () => pending.work(db)),
    );
    if (optimistic.every((outcome) => outcome.ok) || batch.length === 1) return optimistic;
    await query(client, 'begin');
    const outcomes: Outcome[] = [];
    try {
      for (const pending of batch) outcomes.push(await inSavepoint(client, () => pending.work(db)));
    } catch (error) {
      await query(client, 'rollback');
      throw error;
    }
    await commit(client);
    return outcomes;
  }
}

/** The batch's queries already carry the error; the client is discarded on release. */
function noteLost(): void {}

/**
 * BEGIN, every unit concurrently, COMMIT — or ROLLBACK when a unit failed; the outcomes say which.
 * A failing BEGIN, ROLLBACK or COMMIT is thrown (the batch fails).
 */
async function allAtOnce(client: pg.PoolClient, works: (() => Promise<unknown>)[]): Promise<Outcome[]> {
  // Not awaited before the units start: their statements queue up behind it on the wire.
  const begun = query(client, 'begin').then(
    () => null,
    (error: unknown) => error,
  );
  const settled = await Promise.allSettled(works.map((work) => work()));
  const beginError = await begun;
  if (beginError !== null) throw beginError;
  const outcomes: Outcome[] = settled.map((result) =>
    result.status === 'fulfilled' ? { ok: true, value: result.value } : { ok: false, value: result.reason },
  );
  if (outcomes.some((outcome) => !outcome.ok)) {
    await query(client, 'rollback');
    return outcomes;
  }
  try {
    await commit(client);
  } catch (error) {
    if (!(error instanceof TransactionAbortedError)) throw error;
    return outcomes.map(() => ({ ok: false, value: error }));
  }
  return outcomes;
}

/**
 * PostgreSQL answers COMMIT with ROLLBACK when a statement error left the transaction aborted (a
 * unit caught the error and went on): nothing was written.
 */
async function commit(client: pg.PoolClient): Promise<void> {
  const result = await query(client, 'commit');
  if (result.command === 'ROLLBACK') throw new TransactionAbortedError();
}

async function inSavepoint(client: pg.PoolClient, work: () => Promise<unknown>): Promise<Outcome> {
  await query(client, 'savepoint parley_unit');
  try {
    const value = await work();
    // Fails when the unit swallowed a statement error (the transaction is aborted): undo it.
    await query(client, 'release savepoint parley_unit');
    return { ok: true, value };
  } catch (error) {
    await query(client, 'rollback to savepoint parley_unit');
    await query(client, 'release savepoint parley_unit');
    return { ok: false, value: error };
  }
}
