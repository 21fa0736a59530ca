import { validationError, type AppError } from '../errors.js';
import type { KeysetCursor } from '../storage/store.js';

/** The cursor parameters of a list (docs/api.md, "Cursor pagination"), as the query gave them. */
export interface CursorParameters {
  before?: string | undefined;
  after?: string | undefined;
  offset: number;
}

/** The keyset cursor a list request names, or null for an offset page. */
export function cursorOf(page: CursorParameters): KeysetCursor | null {
  if (page.before !== undefined && page.after !== undefined)
    throw validationError(['query', 'before'], 'give before or after, not both');
  if (page.before === undefined && page.after === undefined) return null;
  if (page.offset !== 0)
    throw validationError(['query', 'offset'], 'offset must be 0 when a cursor (before/after) is given');
  return page.before !== undefined ? { direction: 'before', id: page.before } : { direction: 'after', id: page.after! };
}

/**
 * The answer to a cursor that is not an item of the list (the store's page is null). Any such id
 * — unknown, another list's, another organisation's — is answered alike, 422 on the parameter,
 * so a cursor reveals nothing about objects outside the list.
 */
export function cursorNotInList(cursor: KeysetCursor | null): AppError {
  const direction = cursor?.direction ?? 'after';
  return validationError(['query', direction], `${direction} is not the id of an item of this list`);
}
