import type BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Executor } from './executor.js';
import { registerDirectConnection } from './prepared-query.js';
import { ParleySqliteConnection, ParleySqliteDialect } from './sqlite-driver.js';

const DEFAULT_MAX_BATCH_SIZE = 1000;

type Work<T> = (db: Executor) => Promise<T>;
type Outcome = { ok: true; value: unknown } | { ok: false; value: unknown };

interface PendingWrite {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Thrown inside an optimistic batch to roll it back when one of its units failed. */
class UnitFailed extends Error {}

/**
 * Group commit for SQLite. Every write unit that arrives while the event loop is busy joins one
 * `BEGIN IMMEDIATE … COMMIT`, so one fsync (synchronous=FULL) covers many requests. A unit that
 * fails is rolled back alone and rejects alone (see #commit). No unit's promise settles before
 * the commit that holds it has returned, so a response is never sent for a write that could
 * still be lost.
 *
 * The writer owns its connection's transactions: it issues BEGIN, SAVEPOINT and COMMIT itself,
 * and units run their Kysely queries on that connection directly, without Kysely's transaction
 * machinery (a lock and several promise hops per statement). Nothing else writes through this
 * connection while a batch runs; batches never overlap.
 *
 * Units must only touch the database: awaiting anything else would hold the write lock, and a
 * unit may run a second time after its batch was rolled back.
 */
export class GroupCommitWriter {
  readonly #statements: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo',
    BetterSqlite3.Statement
  >;
  readonly #connection: BetterSqlite3.Database;
  readonly #unitDb: Kysely<Database>;
  readonly #maxBatchSize: number;
  #queue: PendingWrite[] = [];
  #flushing = false;
  #scheduled = false;
  #idle: Promise<void> = Promise.resolve();
  #batchSizes = { batches: 0, units: 0 };
  readonly #batchListeners = new Set<(size: number) => void>();

  /**
   * `maxBatchSize` bounds one transaction: a batch this large is committed at once instead of at
   * the end of the loop turn. Measured with 100 concurrent clients, small caps (32) lose about a
   * fifth of the throughput to the extra fsyncs, so the default only guards against huge batches.
   */
  constructor(connection: BetterSqlite3.Database, options: { maxBatchSize?: number } = {}) {
    this.#connection = connection;
    this.#unitDb = new Kysely<Database>({ dialect: new ParleySqliteDialect(connection, { exclusive: true }) });
    registerDirectConnection(this.#unitDb, new ParleySqliteConnection(connection));
    this.#maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.#statements = {
      begin: connection.prepare('begin immediate'),
      commit: connection.prepare('commit'),
      rollback: connection.prepare('rollback'),
      savepoint: connection.prepare('savepoint parley_unit'),
      release: connection.prepare('release savepoint parley_unit'),
      rollbackTo: connection.prepare('rollback to savepoint parley_unit'),
    };
  }

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.#queue.length >= this.#maxBatchSize && !this.#flushing) this.#idle = this.#flush();
      else this.#schedule();
    });
  }

  /** Resolves once everything queued so far has been committed (or has failed). */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      await this.#idle;
      await new Promise((resolve) => setImmediate(resolve));
    }
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
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    // setImmediate runs after the poll phase: every request read in this loop turn joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#flushing && this.#queue.length > 0) this.#idle = this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    this.#flushing = true;
    try {
      const outcomes = await this.#commit(batch);
      this.#batchSizes.batches += 1;
      this.#batchSizes.units += batch.length;
      for (const listener of this.#batchListeners) listener(batch.length);
      batch.forEach((pending, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.value);
      });
    } catch (error) {
      // BEGIN or COMMIT failed (lock timeout, I/O error): nothing in this batch was written.
      for (const pending of batch) pending.reject(error);
    } finally {
      this.#flushing = false;
      if (this.#queue.length > 0) this.#schedule();
    }
  }

  /**
   * Runs the batch in one transaction. Optimistically without savepoints (they cost as much as a
   * small insert): if any unit fails, that transaction is rolled back and the batch runs again
   * with a savepoint around each unit, so the failing one is undone alone. Units may therefore
   * run twice; they only touch the database, so the first run leaves no trace. A batch of one
   * needs no savepoint: its transaction is its own.
   */
  async #commit(batch: PendingWrite[]): Promise<Outcome[]> {
    if (batch.length === 1) {
      try {
        return [{ ok: true, value: await this.#transaction((db) => batch[0]!.work(db)) }];
      } catch (error) {
        if (this.#connection.inTransaction) throw error;
        return [{ ok: false, value: error }];
      }
    }
    try {
      return await this.#transaction(async (db) => {
        const outcomes: Outcome[] = [];
        for (const pending of batch) {
          try {
            outcomes.push({ ok: true, value: await pending.work(db) });
          } catch {
            throw new UnitFailed();
          }
        }
        return outcomes;
      });
    } catch (error) {
      if (!(error instanceof UnitFailed)) throw error;
    }
    return this.#transaction(async (db) => {
      const outcomes: Outcome[] = [];
      for (const pending of batch) outcomes.push(await this.#inSavepoint(db, pending.work));
      return outcomes;
    });
  }

  /** BEGIN IMMEDIATE, the work, COMMIT; ROLLBACK if the work throws. */
  async #transaction<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    this.#statements.begin.run();
    let result: T;
    try {
      result = await work(this.#unitDb);
    } catch (error) {
      this.#statements.rollback.run();
      throw error;
    }
    try {
      this.#statements.commit.run();
    } catch (error) {
      // A failed COMMIT can leave the transaction open (e.g. SQLITE_BUSY): end it.
      if (this.#connection.inTransaction) this.#statements.rollback.run();
      throw error;
    }
    return result;
  }

  async #inSavepoint(db: Executor, work: Work<unknown>): Promise<Outcome> {
    this.#statements.savepoint.run();
    try {
      const value = await work(db);
      this.#statements.release.run();
      return { ok: true, value };
    } catch (error) {
      this.#statements.rollbackTo.run();
      this.#statements.release.run();
      return { ok: false, value: error };
    }
  }
}
