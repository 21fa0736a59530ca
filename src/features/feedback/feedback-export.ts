import type { FeedbackExportRecord, FeedbackFilter } from '../../domain/feedback.js';
import type { Store } from '../../storage/store.js';

export type ExportFormat = 'jsonl' | 'csv';

/** Rows read per query: one keyset batch. */
export const EXPORT_BATCH_ROWS = 500;

/**
 * The text handed to the reply at a time, in UTF-16 code units (a chunk ends after the row that
 * crosses it). Kept well under V8's large-object size (128 KiB): chunks then die young in the
 * nursery, where one batch joined into one string (about 550 KB) went to large-object space,
 * which only a full collection empties — the server's RSS grew by 77 MiB over a 100,000-row
 * export that way (docs/performance.md, "Feedback export").
 */
export const EXPORT_CHUNK_CHARS = 32 * 1024;

/** The export's columns, in order: CSV's header row and every JSONL object's keys. */
export const EXPORT_COLUMNS = [
  'id',
  'created_at',
  'updated_at',
  'feedback_type',
  'issue_type',
  'comment',
  'user_id',
  'anon_user_id',
  'organization_id',
  'agent_id',
  'thread_id',
  'human_message_id',
  'human_message_content',
  'ai_message_id',
  'ai_message_content',
  'flow_execution_id',
  'source',
  'context_id',
] as const satisfies readonly (keyof FeedbackExportRecord)[];

/**
 * The organisation's ratings that match, newest first, as text chunks: each batch is read with a
 * keyset query after the last row of the one before, so memory stays one batch whatever the
 * count, and the reply's backpressure paces the reading (a generator runs on demand). `batchRows`
 * is for tests (batch edges inside a run of equal `created_at`).
 */
export async function* exportFeedback(input: {
  store: Store;
  filter: FeedbackFilter;
  format: ExportFormat;
  batchRows?: number;
}): AsyncGenerator<string> {
  const limit = input.batchRows ?? EXPORT_BATCH_ROWS;
  if (input.format === 'csv') yield csvLine(EXPORT_COLUMNS);
  const line = input.format === 'csv' ? csvRow : jsonLine;
  let after: { created_at: string; id: string } | null = null;
  for (;;) {
    const rows = await input.store.feedback.exportBatch({ ...input.filter, after, limit });
    yield* chunksOf(rows.map(line));
    const last = rows.at(-1);
    if (rows.length < limit || last === undefined) return;
    after = { created_at: last.created_at, id: last.id };
  }
}

/** The lines joined into chunks of about `EXPORT_CHUNK_CHARS`. */
function* chunksOf(lines: string[]): Generator<string> {
  let pending: string[] = [];
  let size = 0;
  for (const text of lines) {
    pending.push(text);
    size += text.length;
    if (size >= EXPORT_CHUNK_CHARS) {
      yield pending.join('');
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) yield pending.join('');
}

function jsonLine(record: FeedbackExportRecord): string {
  const ordered: Record<string, unknown> = {};
  for (const column of EXPORT_COLUMNS) ordered[column] = record[column];
  return `${JSON.stringify(ordered)}\n`;
}

function csvRow(record: FeedbackExportRecord): string {
  return csvLine(EXPORT_COLUMNS.map((column) => record[column]));
}

/** One CSV record, CRLF-terminated (RFC 4180). Null is an empty cell. */
export function csvLine(values: readonly (string | null)[]): string {
  return `${values.map((value) => csvCell(value ?? '')).join(',')}\r\n`;
}

/**
 * A cell, quoted when it holds a comma, quote, CR or LF (quotes doubled, RFC 4180). A cell that
 * starts with `=`, `+`, `-` or `@` — or a tab or CR, which spreadsheets skip before them — gets a
 * leading `'`, so a spreadsheet shows the text rather than running it as a formula (OWASP "CSV
 * injection"). Comments and messages are written by end users and models: never trusted.
 */
export function csvCell(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}
