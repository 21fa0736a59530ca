import {
  isExpression,
  type ExpressionBuilder,
  type InsertQueryBuilder,
  type InsertResult,
  type RawBuilder,
} from 'kysely';
import type { Executor } from './executor.js';
import type { Database } from './schema.js';

/** The tables whose rows belong to an agent: each has `organization_id` and `agent_id`. */
type AgentOwned = {
  [T in keyof Database]: Database[T] extends { organization_id: string; agent_id: string } ? T : never;
}[keyof Database];

/**
 * A row as it is to be written: `agent_id` and `organization_id` (the caller's) name the agent it
 * goes under; every other column is a value, or an expression where a bare parameter would be
 * mistyped.
 */
export interface AgentOwnedRow {
  agent_id: string;
  organization_id: string;
}

/**
 * `INSERT INTO <table> (organization_id, agent_id, …) SELECT agents.organization_id, agents.id, …
 * FROM agents WHERE agents.id = ? AND agents.organization_id = ?`: the tenant check inside the
 * statement (threads-store.ts' INSERT_THREAD is the same, as a prepared statement). The row is
 * written only when the agent is the caller's organisation's, and nothing is read first, so there
 * is no check-then-write gap. With `cap`, the same SELECT also counts the agent's rows of the table
 * and writes nothing at `cap` or more (read inside the statement: on PostgreSQL two writes
 * committing at once may both pass at `cap` − 1; the caps bound size, they are not invariants).
 * `numInsertedOrUpdatedRows` is 0 when the agent is not found or the cap is reached.
 */
export function insertUnderAgent(
  db: Executor,
  table: AgentOwned,
  row: AgentOwnedRow,
  cap?: number,
): InsertQueryBuilder<Database, AgentOwned, InsertResult> {
  const { agent_id: agentId, organization_id: organizationId, ...values } = row;
  const own: [string, unknown][] = Object.entries(values);
  const columns = ['organization_id', 'agent_id', ...own.map(([column]) => column)];
  const selected = (eb: ExpressionBuilder<Database, 'agents'>) => {
    const select = eb
      .selectFrom('agents')
      .select([
        'agents.organization_id',
        'agents.id as agent_id',
        ...own.map(([column, value]) =>
          isExpression(value) ? (value as RawBuilder<unknown>).as(column) : eb.val(value).as(column),
        ),
      ])
      .where('agents.id', '=', agentId)
      .where('agents.organization_id', '=', organizationId);
    if (cap === undefined) return select;
    const existing = eb
      .selectFrom(`${table} as existing` as 'agent_tools as existing')
      .select(eb.fn.countAll<number>().as('count'))
      .where('existing.agent_id', '=', agentId);
    return select.where(existing, '<', cap);
  };
  // The column list is built from the row, so Kysely cannot check it against the table's row type.
  return db
    .insertInto(table)
    .columns(columns as never)
    .expression(selected as never);
}
