import type { Executor } from './executor.js';
import { directConnectionOf } from './prepared-query.js';

/**
 * A statement that the units of one PostgreSQL group-commit batch may share (ADR 0033,
 * amendment "one statement per batch"): every call made on one batch connection in the same tick
 * is gathered, and sent as one statement (`many`) when there are several, or run alone
 * (`single`) when there is one. `many` must answer every call, in the order of `values`.
 *
 * A call is answered only by the rows of its own values: a row that fails its tenant check is
 * simply absent from the shared statement's result, so that call sees "no row", as it would
 * alone. A statement error fails every call of the group; the writer then reruns the batch unit
 * by unit in savepoints, where each group has one call and `single` runs, so the failing unit
 * fails alone.
 */
export interface BatchedStatement<Values, Result> {
  single(db: Executor, values: Values): Promise<Result>;
  many(connection: BatchSender, values: readonly Values[]): Promise<Result[]>;
}

/** How `many` sends its one statement: a named prepared statement on the batch's client. */
export interface BatchSender {
  send(sql: string, parameters: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A connection that gathers BatchedStatement calls (the PostgreSQL batch client's). */
export interface BatchingConnection {
  batched<Values, Result>(
    statement: BatchedStatement<Values, Result>,
    run: () => Promise<Result>,
    values: Values,
  ): Promise<Result>;
}

function isBatching(connection: unknown): connection is BatchingConnection {
  return typeof (connection as Partial<BatchingConnection> | undefined)?.batched === 'function';
}

/** Runs `statement` for `values`: gathered with the tick's other calls on a batch connection, else alone. */
export function runBatched<Values, Result>(
  db: Executor,
  statement: BatchedStatement<Values, Result>,
  values: Values,
): Promise<Result> {
  const connection = directConnectionOf(db);
  if (!isBatching(connection)) return statement.single(db, values);
  return connection.batched(statement, () => statement.single(db, values), values);
}

/** `values` as one array per column, for `unnest($1::text[], $2::text[], …)`. */
export function columnsOf<Row extends object>(
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
): unknown[][] {
  return columns.map((column) => rows.map((row) => row[column]));
}
