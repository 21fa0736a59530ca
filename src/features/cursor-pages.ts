import { validationError } from '../errors.js';
import type { KeysetCursor, KeysetPosition } from '../storage/store.js';

/** The cursor parameters of a list (docs/api.md, "Cursor pagination"), as the query gave them. */
export interface CursorParameters {
  before?: string | undefined;
  after?: string | undefined;
  offset: number;
}

/**
 * The keyset cursor a list request names, or null for an offset page. The id must be an item of
 * this very list (`findPosition` looks in the list's scope: organisation and parent): any other
 * id — unknown, another list's, another organisation's — is answered alike, 422 on the
 * parameter, so a cursor reveals nothing about objects outside the list.
 */
export async function resolveCursor(
  page: CursorParameters,
  findPosition: (id: string) => Promise<KeysetPosition | null>,
): Promise<KeysetCursor | null> {
  if (page.before !== undefined && page.after !== undefined)
    throw validationError(['query', 'before'], 'give before or after, not both');
  const direction = page.before !== undefined ? 'before' : page.after !== undefined ? 'after' : null;
  if (direction === null) return null;
  if (page.offset !== 0) throw validationError(['query', 'offset'], 'offset must be 0 when a cursor (before/after) is given');
  const position = await findPosition((direction === 'before' ? page.before : page.after)!);
  if (!position) throw validationError(['query', direction], `${direction} is not the id of an item of this list`);
  return { direction, position };
}
