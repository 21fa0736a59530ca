import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';

/**
 * Kysely's SQLite dialect with two changes that matter for Parley:
 * - write transactions open with `BEGIN IMMEDIATE`, so a writer waits on `busy_timeout` for the
 *   lock instead of failing with SQLITE_BUSY when a deferred read transaction tries to upgrade
 *   (another process, e.g. `parley keys create`, may hold the write lock);
 * - prepared statements are cached by SQL text: Kysely's driver prepares every query again, which
 *   costs more than running it for the short statements this server issues.
 */
export class ParleySqliteDialect implements Dialect {
  readonly #database: BetterSqlite3.Database;
  readonly #exclusive: boolean;
  /**
   * `exclusive`: the caller guarantees that one query runs at a time on this Kysely instance (the
   * group-commit writer's units), so queries skip the connection lock.
   */
  constructor(database: BetterSqlite3.Database, options: { exclusive?: boolean } = {}) {
    this.#database = database;
    this.#exclusive = options.exclusive ?? false;
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new ParleySqliteDriver(this.#database, this.#exclusive);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new SqliteIntrospector(db);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
}

const STATEMENT_CACHE_SIZE = 500;

export class ParleySqliteConnection implements DatabaseConnection {
  readonly #database: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(database: BetterSqlite3.Database) {
    this.#database = database;
  }

  #prepare(sqlText: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sqlText);
    if (statement === undefined) {
      // A plain size cap (not LRU): the set of distinct statements is small and fixed by the code;
      // only `IN (...)` lists of varying length add new texts.
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.clear();
      statement = this.#database.prepare(sqlText);
      this.#statements.set(sqlText, statement);
    }
    return statement;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters as unknown[];
    if (statement.reader) {
      return Promise.resolve({ rows: statement.all(parameters) as R[] });
    }
    const { changes } = statement.run(parameters);
    return Promise.resolve({ numAffectedRows: BigInt(changes), rows: [] });
  }

  // eslint-disable-next-line require-yield -- Parley never streams SQLite results.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not used with SQLite');
  }
}

class ParleySqliteDriver implements Driver {
  readonly #database: BetterSqlite3.Database;
  readonly #connection: ParleySqliteConnection;
  #lock: Promise<void> | undefined;
  #unlock: (() => void) | undefined;

  readonly #exclusive: boolean;

  constructor(database: BetterSqlite3.Database, exclusive: boolean) {
    this.#database = database;
    this.#exclusive = exclusive;
    this.#connection = new ParleySqliteConnection(database);
  }

  async init(): Promise<void> {}

  // One connection: callers take turns, so a transaction never sees another caller's statements.
  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#exclusive) return this.#connection;
    while (this.#lock) await this.#lock;
    this.#lock = new Promise((resolve) => (this.#unlock = resolve));
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    if (this.#exclusive) return;
    const unlock = this.#unlock;
    this.#lock = undefined;
    this.#unlock = undefined;
    unlock?.();
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async destroy(): Promise<void> {
    // An exclusive view shares a connection its owner closes.
    if (!this.#exclusive) this.#database.close();
  }
}
