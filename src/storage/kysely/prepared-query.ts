import type { Compilable, CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';
import type { Executor } from './executor.js';

/**
 * A query written with Kysely and compiled once per dialect, then run with new values. Building
 * and compiling a Kysely query costs more than SQLite takes to run it (about 10–20 µs for an
 * INSERT … SELECT), which matters on the hottest write paths.
 *
 * The builder receives a marker for each named value, and must pass the markers through as plain
 * parameters: no `IS NULL` for a null value, no `IN` lists of varying length, no transforming the
 * value. Compiling with the markers tells where each value goes.
 */
/**
 * Executors whose queries may run directly on a connection, with no Kysely plugins in between:
 * registered by the group-commit writer for the Kysely view its units use.
 */
const directConnections = new WeakMap<object, DatabaseConnection>();

export function registerDirectConnection(db: Executor, connection: DatabaseConnection): void {
  directConnections.set(db, connection);
}

/** The connection registered for `db` (a group-commit unit's view), if any. */
export function directConnectionOf(db: Executor): DatabaseConnection | undefined {
  return directConnections.get(db);
}

export class PreparedQuery<Values extends object, Row = unknown> {
  readonly #names: readonly (keyof Values & string)[];
  readonly #build: (db: Executor, values: Values) => Compilable<Row>;
  readonly #compiled = new WeakMap<object, { template: CompiledQuery<Row>; order: (keyof Values & string)[] }>();

  constructor(names: readonly (keyof Values & string)[], build: (db: Executor, values: Values) => Compilable<Row>) {
    this.#names = names;
    this.#build = build;
  }

  execute(db: Executor, values: Values): Promise<QueryResult<Row>> {
    const { template, order } = this.#templateFor(db);
    const compiled: CompiledQuery<Row> = { ...template, parameters: order.map((name) => values[name]) };
    // Inside a group-commit unit the statement goes straight to the connection: Kysely's
    // executor would add a connection hand-off and several promise hops around a synchronous call.
    const direct = directConnections.get(db);
    return direct ? direct.executeQuery<Row>(compiled) : db.executeQuery(compiled);
  }

  #templateFor(db: Executor) {
    // One compiled form per dialect: a transaction shares its database's adapter object.
    const adapter = db.getExecutor().adapter;
    let entry = this.#compiled.get(adapter);
    if (!entry) {
      const markers = Object.fromEntries(this.#names.map((name) => [name, `\u0000parley:${name}\u0000`])) as Values;
      const template = this.#build(db, markers).compile();
      const order = template.parameters.map((parameter) => {
        const name = this.#names.find((candidate) => markers[candidate] === parameter);
        if (name === undefined)
          throw new Error(`Prepared query has a parameter that is not a named value: ${String(parameter)}`);
        return name;
      });
      entry = { template, order };
      this.#compiled.set(adapter, entry);
    }
    return entry;
  }
}
