import { collapseWhitespace, formatRecord, type SectionCollector } from './section-collector.js';

/**
 * Turns an HTML tree (a page's main content, or mammoth's rendering of a DOCX) into sections:
 * h1–h6 set the heading path, each block (paragraph, list item, quote, preformatted text)
 * becomes a section, loose text between blocks becomes one too, and a table becomes one
 * section per row (`header: value; …`, the first row being the header). Navigation, footers,
 * scripts, styles, forms' controls and hidden elements are dropped.
 */
export interface HtmlNode {
  readonly nodeType: number;
  readonly nodeName: string;
  readonly textContent: string | null;
  readonly childNodes: ArrayLike<HtmlNode>;
  getAttribute?(name: string): string | null;
}

const ELEMENT = 1;
const TEXT = 3;

const DROPPED = new Set([
  'SCRIPT',
  'STYLE',
  'NOSCRIPT',
  'TEMPLATE',
  'NAV',
  'FOOTER',
  'IFRAME',
  'SVG',
  'OBJECT',
  'CANVAS',
  'BUTTON',
  'SELECT',
  'HEAD',
]);

const BLOCKS = new Set([
  'ADDRESS',
  'ARTICLE',
  'ASIDE',
  'BLOCKQUOTE',
  'BODY',
  'CAPTION',
  'DD',
  'DIV',
  'DL',
  'DT',
  'FIELDSET',
  'FIGCAPTION',
  'FIGURE',
  'FORM',
  'HEADER',
  'HR',
  'HTML',
  'LI',
  'MAIN',
  'OL',
  'P',
  'SECTION',
  'UL',
]);

export function collectHtmlSections(root: HtmlNode, collector: SectionCollector): void {
  const walker = new HtmlWalker(collector);
  walker.walk(root);
  walker.flush();
}

class HtmlWalker {
  private pending = '';

  constructor(private readonly collector: SectionCollector) {}

  walk(node: HtmlNode): void {
    if (node.nodeType === TEXT) {
      this.pending += node.textContent ?? '';
      return;
    }
    if (node.nodeType !== ELEMENT) return;
    const tag = node.nodeName.toUpperCase();
    if (DROPPED.has(tag) || isHidden(node)) return;
    const heading = /^H([1-6])$/.exec(tag);
    if (heading) {
      this.flush();
      this.collector.heading(Number(heading[1]), node.textContent ?? '');
    } else if (tag === 'TABLE') {
      this.flush();
      this.table(node);
    } else if (tag === 'PRE') {
      this.flush();
      this.collector.add(node.textContent ?? '');
    } else if (tag === 'BR') {
      this.pending += ' ';
    } else {
      this.container(node, BLOCKS.has(tag));
    }
  }

  flush(): void {
    this.collector.add(collapseWhitespace(this.pending));
    this.pending = '';
  }

  private container(node: HtmlNode, block: boolean): void {
    if (block) this.flush();
    for (const child of Array.from(node.childNodes)) this.walk(child);
    if (block) this.flush();
  }

  private table(table: HtmlNode): void {
    const rows = descendants(table, 'TR').map((row) =>
      descendants(row, 'TD', 'TH').map((cell) => collapseWhitespace(cell.textContent ?? '')),
    );
    const [header, ...records] = rows;
    if (header === undefined) return;
    if (records.length === 0) this.collector.add(header.filter((cell) => cell !== '').join(' | '));
    for (const record of records) this.collector.add(formatRecord(header, record));
  }
}

function isHidden(node: HtmlNode): boolean {
  return node.getAttribute?.('hidden') != null || node.getAttribute?.('aria-hidden') === 'true';
}

/** Rows of this table (not of tables nested in its cells), or cells of this row. */
function descendants(node: HtmlNode, ...tags: string[]): HtmlNode[] {
  const found: HtmlNode[] = [];
  for (const child of Array.from(node.childNodes)) {
    if (child.nodeType !== ELEMENT) continue;
    const tag = child.nodeName.toUpperCase();
    if (tags.includes(tag)) found.push(child);
    else if (tag !== 'TABLE') found.push(...descendants(child, ...tags));
  }
  return found;
}
