import type { DocumentSection } from '../document.js';

/**
 * Collects sections in reading order under the current heading path. Headings nest by level:
 * an h3 under an h1 with no h2 between gets the path [h1, h3], and a new h2 closes every
 * heading of level 2 and deeper.
 */
export class SectionCollector {
  readonly sections: DocumentSection[] = [];
  private readonly headings: { level: number; text: string }[] = [];
  private first: string | null = null;

  heading(level: number, text: string): void {
    const clean = collapseWhitespace(text);
    if (clean === '') return;
    while (this.headings.length > 0 && (this.headings.at(-1)?.level ?? 0) >= level) this.headings.pop();
    this.headings.push({ level, text: clean });
    this.first ??= clean;
  }

  /** Adds a block; blank text is skipped (formats leave empty paragraphs everywhere). */
  add(text: string, page: number | null = null): void {
    const clean = text.trim();
    if (clean === '') return;
    this.sections.push({ headingPath: this.headings.map((heading) => heading.text), page, text: clean });
  }

  /** The first heading seen, the title of formats that have no other. */
  get firstHeading(): string | null {
    return this.first;
  }
}

export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * One record (a CSV row, a table row, a spreadsheet row) as a readable line:
 * `name: Ada; role: engineer`. Empty values are left out; a column without a header is named
 * by its position (`column 3`).
 */
export function formatRecord(headers: readonly string[], values: readonly string[]): string {
  return values
    .map((value, index) => ({ name: headers[index]?.trim() || `column ${index + 1}`, value: value.trim() }))
    .filter(({ value }) => value !== '')
    .map(({ name, value }) => `${name}: ${value}`)
    .join('; ');
}
