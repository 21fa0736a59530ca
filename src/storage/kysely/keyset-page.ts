import { sql, type SelectQueryBuilder } from 'kysely';

/**
 * Keyset ("cursor") pages over a list ordered by (created_at, id), docs/api.md "Cursor
 * pagination". A cursor is an item of the list; the page is the items next to it in the list's
 * order, found through the list's index from that key on (a row-value comparison both dialects
 * use as an index range), so a deep page costs what the first does — an OFFSET reads and drops
 * every row it skips.
 *
 * Shared by every list in that order (threads, messages; feedback and web threads later): the
 * store scopes the query (organisation and parent in the statement) and finds the cursor's
 * position in the same scope, so another list's or another organisation's id is no position.
 */

/** Where an item sits in its list: the list's sort key. */
export interface KeysetPosition {
  created_at: string;
  id: string;
}

/**
 * `after`: the items that follow the cursor's item in list order. `before`: the `limit` items
 * just before it, still in list order (the previous page).
 */
export interface KeysetCursor {
  direction: 'before' | 'after';
  position: KeysetPosition;
}

export interface KeysetPage {
  /** The list's order of (created_at, id). */
  order: 'asc' | 'desc';
  /** None: the first page (from `offset`). */
  cursor?: KeysetCursor | null | undefined;
  limit: number;
  offset: number;
  /** The table (or alias) whose `created_at` and `id` the list is ordered by, when the query joins. */
  table?: string;
}

/** Runs `query` (scoped, unordered) as one page: the order, the cursor's range, limit and offset. */
export async function readKeysetPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  page: KeysetPage,
): Promise<O[]> {
  const backwards = page.cursor?.direction === 'before';
  const order = backwards ? (page.order === 'asc' ? 'desc' : 'asc') : page.order;
  const prefix = page.table === undefined ? '' : `${page.table}.`;
  const createdAt = sql.ref(`${prefix}created_at`);
  const id = sql.ref(`${prefix}id`);
  let scoped = query;
  if (page.cursor) {
    const { position } = page.cursor;
    const comparison = sql.raw(order === 'asc' ? '>' : '<');
    scoped = scoped.where(sql<boolean>`(${createdAt}, ${id}) ${comparison} (${position.created_at}, ${position.id})`);
  }
  const rows = await scoped.orderBy(createdAt, order).orderBy(id, order).limit(page.limit).offset(page.offset).execute();
  return backwards ? rows.reverse() : rows;
}
