import { parse } from 'csv-parse/sync';
import { ExtractionError, type ExtractedDocument } from '../document.js';
import { formatRecord, SectionCollector } from './section-collector.js';

/**
 * A CSV file: the delimiter is the one of `,` `;` tab `|` that occurs most often (outside
 * quotes) in the first line, the first record is the header, and every further record becomes
 * one section, `header: value; header: value` (empty values left out). A file with only a
 * header becomes one section listing the columns.
 */
const DELIMITERS = [',', ';', '\t', '|'] as const;

export function extractCsv(text: string): ExtractedDocument {
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      delimiter: detectDelimiter(text),
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
    });
  } catch (error) {
    throw Object.assign(new ExtractionError(`the CSV could not be read: ${csvReason(error)}`), { cause: error });
  }
  const collector = new SectionCollector();
  const [header, ...rows] = records;
  if (header !== undefined && rows.length === 0) collector.add(header.filter((cell) => cell.trim() !== '').join('; '));
  for (const row of rows) collector.add(formatRecord(header ?? [], row));
  return { title: null, sections: collector.sections, pageCount: null };
}

export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>(DELIMITERS.map((delimiter) => [delimiter, 0]));
  let quoted = false;
  for (const character of text.slice(0, 64 * 1024)) {
    if (character === '"') quoted = !quoted;
    else if (!quoted && (character === '\n' || character === '\r')) break;
    else if (!quoted && counts.has(character)) counts.set(character, (counts.get(character) ?? 0) + 1);
  }
  let best: string = ',';
  for (const [delimiter, count] of counts) if (count > (counts.get(best) ?? 0)) best = delimiter;
  return best;
}

/** csv-parse's messages name the line ("Quote Not Closed: … at line 5"); keep that part. */
function csvReason(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  return message.split('\n')[0]?.slice(0, 200) || 'the file is not valid CSV';
}
