import { validationError } from '../errors.js';

/** A list filter's `from`/`to` query parameters (ISO date-times, any offset). */
export interface TimeRange {
  from?: string | undefined;
  to?: string | undefined;
}

/**
 * The range in UTC ISO form, the form every `created_at` is stored in, so text comparison in SQL
 * is time comparison; `to` may not be before `from` (422 at `["query","to"]`).
 */
export function utcTimeRange(range: TimeRange): TimeRange {
  const from = range.from === undefined ? undefined : new Date(range.from).toISOString();
  const to = range.to === undefined ? undefined : new Date(range.to).toISOString();
  if (from !== undefined && to !== undefined && from > to) {
    throw validationError(['query', 'to'], 'Input should not be before `from`');
  }
  return { from, to };
}
