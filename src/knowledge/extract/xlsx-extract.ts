import type { ExtractedDocument } from '../document.js';
import { elements, OoxmlPackage, type XmlElement } from './ooxml-package.js';
import { formatRecord, SectionCollector } from './section-collector.js';

/**
 * A workbook: each sheet in workbook order (page = its 1-based index, heading = its name); the
 * sheet's first non-empty row is the header and every further row becomes one section,
 * `header: value; …`. Values are what the cells store: shared and inline strings, numbers as
 * written (dates stay serial numbers: styles are not read), booleans as TRUE/FALSE.
 */
export async function extractXlsx(bytes: Uint8Array): Promise<ExtractedDocument> {
  const workbookPackage = await OoxmlPackage.open(bytes);
  const workbookName = await workbookPackage.mainPartName();
  const workbook = await workbookPackage.requirePart(workbookName);
  const targets = await workbookPackage.relationships(workbookName);
  const [sharedStringsName] = (await workbookPackage.relationships(workbookName, 'sharedStrings')).values();
  const sharedStrings = sharedStringsName === undefined ? null : await workbookPackage.part(sharedStringsName);
  const strings = sharedStrings === null ? [] : elements(sharedStrings, 'si').map((item) => textOf(item, 't'));
  const collector = new SectionCollector();
  const sheets = elements(workbook, 'sheet');
  for (const [index, sheet] of sheets.entries()) {
    const target = targets.get(sheet.getAttribute('r:id') ?? '');
    const sheetPart = target === undefined ? null : await workbookPackage.part(target);
    if (sheetPart === null) continue;
    collector.heading(1, sheet.getAttribute('name') ?? `Sheet ${index + 1}`);
    addRows({ collector, rows: elements(sheetPart, 'row').map((row) => rowValues(row, strings)), page: index + 1 });
  }
  return { title: await workbookPackage.title(), sections: collector.sections, pageCount: sheets.length };
}

function addRows(input: { collector: SectionCollector; rows: string[][]; page: number }): void {
  const rows = input.rows.filter((row) => row.some((value) => value.trim() !== ''));
  const [header, ...records] = rows;
  if (header === undefined) return;
  if (records.length === 0) input.collector.add(header.filter((value) => value.trim() !== '').join('; '), input.page);
  for (const record of records) input.collector.add(formatRecord(header, record), input.page);
}

function rowValues(row: XmlElement, strings: readonly string[]): string[] {
  const values: string[] = [];
  for (const cell of elements(row, 'c')) {
    const column = columnIndex(cell.getAttribute('r')) ?? values.length;
    while (values.length < column) values.push('');
    values[column] = cellValue(cell, strings);
  }
  return values;
}

function cellValue(cell: XmlElement, strings: readonly string[]): string {
  const type = cell.getAttribute('t');
  if (type === 'inlineStr')
    return elements(cell, 'is')
      .map((item) => textOf(item, 't'))
      .join('');
  const value = elements(cell, 'v')[0]?.textContent ?? '';
  if (type === 's') return strings[Number(value)] ?? '';
  if (type === 'b') return value === '1' ? 'TRUE' : 'FALSE';
  return value;
}

/** `C7` → 2 (0-based column); null when the reference is missing or not A1-style. */
function columnIndex(reference: string | null): number | null {
  const letters = reference === null ? null : /^[A-Z]{1,3}/.exec(reference)?.[0];
  if (!letters) return null;
  return [...letters].reduce((sum, letter) => sum * 26 + letter.charCodeAt(0) - 64, 0) - 1;
}

function textOf(element: XmlElement, localName: string): string {
  return elements(element, localName)
    .map((text) => text.textContent ?? '')
    .join('');
}
