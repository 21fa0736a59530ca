import type pg from 'pg';
import type { Executor } from './executor.js';
import { unitViewOf } from './postgres-client.js';

const DEFAULT_MAX_BATCH_SIZE = 500;

type Work<T> = (db: Executor) => Promise<T>;
type Outcome = { ok: true; value: unknown } | { ok: false; value: unknown };

interface PendingWrite {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Thrown inside an optimistic batch to roll it back when one of its units failed. */
class UnitFailed extends Error {}

/** PostgreSQL ended the transaction with ROLLBACK: a statement error was swallowed by a unit. */
export class TransactionAbortedError extends Error {
  constructor() {
    super('the transaction was aborted by an earlier statement error and rolled back');
  }
}

/**
 * Group commit for PostgreSQL (ADR 0033). Write units that arrive in the same event-loop turn
 * form a batch, run one after another in one `BEGIN … COMMIT` on one pooled client: one commit
 * (one WAL flush) and one BEGIN/COMMIT round-trip pair for the whole batch instead of one per
 * request. Up to `maxConcurrentBatches` batches run at once, each on its own client, so while
 * one batch waits for its commit the next one is already being written.
 *
 * A unit that fails is rolled back alone and rejects alone: the batch is retried with a
 * savepoint around each unit (as GroupCommitWriter does on SQLite). No unit's promise settles
 * before the COMMIT that holds it has returned, so no response is sent for a write that could
 * still be lost. Units must only touch the database and may run twice (the first run rolled back).
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
      const outcomes = await this.#commit(client, batch);
      this.#batchSizes.batches += 1;
      this.#batchSizes.units += batch.length;
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
      client?.release(broken);
      this.#inFlight -= 1;
      if (this.#queue.length > 0) this.#schedule();
      else if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /**
   * Optimistically without savepoints (each costs a round trip): if a unit fails, the whole
   * transaction is rolled back and the batch runs again with a savepoint around each unit. A
   * batch of one needs no savepoint: its transaction is its own.
   */
  async #commit(client: pg.PoolClient, batch: PendingWrite[]): Promise<Outcome[]> {
    const db = unitViewOf(client);
    if (batch.length === 1) {
      try {
        return [{ ok: true, value: await transaction(client, () => batch[0]!.work(db)) }];
      } catch (error) {
        if (error instanceof UnitFailed) return [{ ok: false, value: error.cause }];
        throw error;
      }
    }
    try {
      return await transaction(client, async () => {
        const outcomes: Outcome[] = [];
        for (const pending of batch) outcomes.push({ ok: true, value: await pending.work(db) });
        return outcomes;
      });
    } catch (error) {
      if (!(error instanceof UnitFailed)) throw error;
    }
    return transaction(client, async () => {
      const outcomes: Outcome[] = [];
      for (const pending of batch) outcomes.push(await inSavepoint(client, () => pending.work(db)));
      return outcomes;
    });
  }
}

/**
 * BEGIN, the work, COMMIT. A failing work is rolled back and rethrown as UnitFailed (its error
 * as the cause); a failing BEGIN, ROLLBACK or COMMIT is thrown as it is (the batch fails).
 */
async function transaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await client.query('rollback');
    throw new UnitFailed('a unit of the batch failed', { cause: error });
  }
  const commit = await client.query('commit');
  // PostgreSQL answers COMMIT with ROLLBACK when a statement error left the transaction aborted
  // (a unit caught it and went on): nothing was written, and a unit is to blame.
  if (commit.command === 'ROLLBACK') throw new UnitFailed('aborted', { cause: new TransactionAbortedError() });
  return result;
}

async function inSavepoint(client: pg.PoolClient, work: () => Promise<unknown>): Promise<Outcome> {
  await client.query('savepoint parley_unit');
  let outcome: Outcome;
  try {
    outcome = { ok: true, value: await work() };
    // Fails when the unit swallowed a statement error (the transaction is aborted): undo it.
    await client.query('release savepoint parley_unit');
    return outcome;
  } catch (error) {
    await client.query('rollback to savepoint parley_unit');
    await client.query('release savepoint parley_unit');
    return { ok: false, value: error };
  }
}
