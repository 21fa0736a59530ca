/**
 * Small statistics and formatting helpers shared by the streaming benchmarks. Percentiles use
 * the nearest-rank method: the reported p99 is a latency that was actually observed, never an
 * interpolation between two samples.
 */

/** The p-th percentile (0–100) of `values`, or null for an empty list. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** count, p50, p99, max and mean of a list of numbers. */
export function summarize(values) {
  if (values.length === 0) return { count: 0, p50: null, p99: null, max: null, mean: null };
  let sum = 0;
  let max = -Infinity;
  for (const value of values) {
    sum += value;
    if (value > max) max = value;
  }
  return {
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max,
    mean: sum / values.length,
  };
}

/** A number with a fixed number of decimals, or an en dash when there is none. */
export function fixed(value, digits = 2) {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** A whole number with thousands separators. */
export function whole(value) {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : Math.round(value).toLocaleString('en-US');
}

/** KiB as MiB with one decimal: RSS figures read better that way. */
export function mib(kib) {
  return kib === null || kib === undefined ? '–' : (kib / 1024).toFixed(1);
}

/** A Markdown table from a header row and rows of cells (already strings). */
export function markdownTable(header, rows, alignRight = header.map((_, index) => index > 0)) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(alignRight.map((right) => (right ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/** The same table as aligned plain text, for the terminal. */
export function textTable(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => String(row[column]).length)));
  const format = (row) =>
    row.map((cell, column) => (column === 0 ? String(cell).padEnd(widths[0]) : String(cell).padStart(widths[column])));
  return [
    format(header).join('  '),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map((row) => format(row).join('  ')),
  ].join('\n');
}
