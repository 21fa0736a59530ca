import { sql, type SelectQueryBuilder } from 'kysely';

/**
 * Keyset ("cursor") pages over a list ordered by (created_at, id), docs/api.md "Cursor
 * pagination". A cursor is the id of an item of the list; the page is the items next to it in
 * the list's order, read through the list's index from that item's key on (a row-value
 * comparison both dialects use as an index range), so a deep page costs what the first does —
 * an OFFSET reads and drops every row it skips.
 *
 * Shared by every list in that order (threads, messages; feedback and web threads later): the
 * store scopes the list (organisation and parent, in the statement) and gives the cursor's
 * `position` query in the same scope, so another list's or another organisation's id has no
 * position. The position is a subquery of the page's statement: one statement a page. Only an
 * empty page asks whether the cursor exists (the end of the list, or no such item).
 */

/** `after`: the items that follow the cursor's item in list order. `before`: the `limit` items just before it. */
export interface KeysetCursor {
  direction: 'before' | 'after';
  /** The id of an item of the list. */
  id: string;
}

/** Where an item sits in its list: the list's sort key. */
export interface KeysetPosition {
  created_at: string;
  id: string;
}

export interface KeysetPage<DB> {
  /** The list's order of (created_at, id). */
  order: 'asc' | 'desc';
  /** None: the page at `offset`. */
  cursor?: KeysetCursor | null | undefined;
  limit: number;
  offset: number;
  /** The table (or alias) the list is ordered by, when the query joins others (e.g. `feedback`). */
  table?: string;
  /** The (created_at, id) of the list's item with this id, in the list's scope. */
  position: (id: string) => SelectQueryBuilder<DB, keyof DB, KeysetPosition>;
}

/**
 * Runs `query` (scoped, unordered) as one page: the order, the cursor's range, limit and offset.
 * Null when the cursor is not an item of the list.
 */
export async function readKeysetPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  page: KeysetPage<DB>,
): Promise<O[] | null> {
  const backwards = page.cursor?.direction === 'before';
  const order = backwards ? (page.order === 'asc' ? 'desc' : 'asc') : page.order;
  const prefix = page.table === undefined ? '' : `${page.table}.`;
  const createdAt = sql.ref(`${prefix}created_at`);
  const id = sql.ref(`${prefix}id`);
  let scoped = query;
  if (page.cursor) {
    const comparison = sql.raw(order === 'asc' ? '>' : '<');
    scoped = scoped.where(sql<boolean>`(${createdAt}, ${id}) ${comparison} (${page.position(page.cursor.id)})`);
  }
  const rows = await scoped
    .orderBy(createdAt, order)
    .orderBy(id, order)
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  if (rows.length === 0 && page.cursor && !(await page.position(page.cursor.id).executeTakeFirst())) return null;
  return backwards ? rows.reverse() : rows;
}
