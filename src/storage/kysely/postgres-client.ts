import {
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Socket } from 'node:net';
import type pg from 'pg';
import type { Database } from './schema.js';
import { registerDirectConnection } from './prepared-query.js';
import type { BatchedStatement, BatchingConnection, BatchSender } from './batched-statement.js';

interface BatchedCall {
  values: unknown;
  run: () => Promise<unknown>;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * One pooled PostgreSQL client seen as a Kysely connection: the view the group-commit writer's
 * units get while their batch holds that client. With `named`, every query is sent as a named
 * prepared statement (parsed and planned once per connection): only PreparedQuery templates go
 * through such a connection, and their SQL texts are a small fixed set.
 */
export class PostgresClientConnection implements DatabaseConnection, BatchingConnection {
  readonly #client: pg.PoolClient;
  readonly #named: boolean;
  /** BatchedStatement calls of this tick, by statement (see `batched`). */
  readonly #groups = new Map<BatchedStatement<unknown, unknown>, BatchedCall[]>();
  readonly #sender: BatchSender = {
    send: (sql, parameters) => query(this.#client, { name: statementName(sql), text: sql, values: [...parameters] }),
  };

  constructor(client: pg.PoolClient, options: { named: boolean }) {
    this.#client = client;
    this.#named = options.named;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const values = compiled.parameters as unknown[];
    const config = this.#named
      ? { name: statementName(compiled.sql), text: compiled.sql, values }
      : { text: compiled.sql, values };
    const result = await query(this.#client, config);
    const changed = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(result.command);
    return {
      ...(changed ? { numAffectedRows: BigInt(result.rowCount ?? 0) } : {}),
      rows: (result.rows ?? []) as R[],
    };
  }

  /**
   * Gathers the calls of `statement` made in this tick (the units of a batch start together, so
   * their first statements are all issued in one tick) and sends them as one statement on the
   * next tick, still ahead of the batch's first round trip; a lone call runs as it would alone.
   */
  batched<Values, Result>(
    statement: BatchedStatement<Values, Result>,
    run: () => Promise<Result>,
    values: Values,
  ): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const key = statement as BatchedStatement<unknown, unknown>;
      let group = this.#groups.get(key);
      if (group === undefined) {
        group = [];
        this.#groups.set(key, group);
        process.nextTick(() => this.#sendGroup(key));
      }
      group.push({ values, run, resolve: resolve as (result: unknown) => void, reject });
    });
  }

  #sendGroup(statement: BatchedStatement<unknown, unknown>): void {
    const group = this.#groups.get(statement) ?? [];
    this.#groups.delete(statement);
    const [first] = group;
    if (group.length === 1 && first !== undefined) return void first.run().then(first.resolve, first.reject);
    statement
      .many(
        this.#sender,
        group.map((call) => call.values),
      )
      .then(
        (results) => group.forEach((call, index) => call.resolve(results[index])),
        (error: unknown) => group.forEach((call) => call.reject(error)),
      );
  }

  // eslint-disable-next-line require-yield -- a unit never streams; the method only satisfies the interface
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not available inside a write unit');
  }
}

/**
 * `client.query`, with the client's socket corked until the end of this tick: pg writes each
 * protocol message (bind, execute, sync, …) as its own socket write, so without it the
 * statements a batch's units issue together would cost a system call per message and reach
 * the server in pieces. One write per tick carries them all.
 */
export function query(client: pg.PoolClient, config: string | pg.QueryConfig): Promise<pg.QueryResult> {
  const stream = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
  if (stream !== undefined && stream.writableCorked === 0) {
    stream.cork();
    process.nextTick(() => stream.uncork());
  }
  return client.query(config);
}

/** Statement names by SQL text, shared by every connection (a name always means one text). */
const statementNames = new Map<string, string>();

function statementName(sqlText: string): string {
  let name = statementNames.get(sqlText);
  if (name === undefined) {
    name = `parley_${statementNames.size + 1}`;
    statementNames.set(sqlText, name);
  }
  return name;
}

/** Shared by every per-client Kysely view, so PreparedQuery compiles its template once. */
const ADAPTER = new PostgresAdapter();

/** A dialect over one client the writer has already acquired and whose transaction it runs. */
class ClientDialect implements Dialect {
  constructor(private readonly connection: DatabaseConnection) {}
  createAdapter() {
    return ADAPTER;
  }
  createDriver(): Driver {
    const connection = this.connection;
    const refuse = async () => {
      throw new Error('a write unit runs inside its batch transaction and cannot open its own');
    };
    return {
      init: async () => {},
      acquireConnection: async () => connection,
      beginTransaction: refuse,
      commitTransaction: refuse,
      rollbackTransaction: refuse,
      releaseConnection: async () => {},
      destroy: async () => {},
    };
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

/** Kysely views by pooled client: the pool reuses its client objects, so each is built once. */
const views = new WeakMap<pg.PoolClient, Kysely<Database>>();

/** The Kysely view of `client` that a batch's units run on (see PostgresGroupCommitWriter). */
export function unitViewOf(client: pg.PoolClient): Kysely<Database> {
  let view = views.get(client);
  if (view === undefined) {
    view = new Kysely<Database>({ dialect: new ClientDialect(new PostgresClientConnection(client, { named: false })) });
    registerDirectConnection(view, new PostgresClientConnection(client, { named: true }));
    views.set(client, view);
  }
  return view;
}
