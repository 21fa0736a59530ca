import type { FeedbackExportRecord, FeedbackFilter } from '../../domain/feedback.js';
import type { Store } from '../../storage/store.js';

export type ExportFormat = 'jsonl' | 'csv';

/** Rows read per query: one keyset batch, written to the reply as one chunk. */
export const EXPORT_BATCH_ROWS = 500;

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
 * count, and the reply's backpressure paces the reading (a generator runs on demand).
 */
export async function* exportFeedback(input: {
  store: Store;
  filter: FeedbackFilter;
  format: ExportFormat;
  batchRows?: number;
}): AsyncGenerator<string> {
  const limit = input.batchRows ?? EXPORT_BATCH_ROWS;
  if (input.format === 'csv') yield csvLine(EXPORT_COLUMNS);
  let after: { created_at: string; id: string } | null = null;
  for (;;) {
    const rows = await input.store.feedback.exportBatch({ ...input.filter, after, limit });
    if (rows.length > 0) yield rows.map(input.format === 'csv' ? csvRow : jsonLine).join('');
    const last = rows.at(-1);
    if (rows.length < limit || last === undefined) return;
    after = { created_at: last.created_at, id: last.id };
  }
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
