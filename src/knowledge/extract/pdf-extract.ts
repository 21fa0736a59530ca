import { ExtractionError, type ExtractedDocument } from '../document.js';
import { loadPdfjs } from './pdf-runtime.js';
import { collapseWhitespace, SectionCollector } from './section-collector.js';

/**
 * A PDF's text layer, page by page (section.page is the 1-based page number). pdf.js gives
 * positioned text items; they are joined into lines (an item with `hasEOL`, or a change of
 * baseline of more than half the text height, ends a line) and lines into paragraphs (a gap
 * of more than 1.8 line heights, or a jump upwards such as a new column, starts one).
 */
interface TextItem {
  readonly str: string;
  readonly transform: readonly number[];
  readonly height: number;
  readonly hasEOL: boolean;
}

export async function extractPdf(bytes: Uint8Array): Promise<ExtractedDocument> {
  const pdfjs = await loadPdfjs();
  const task = pdfjs.getDocument({
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    useWorkerFetch: false,
    isOffscreenCanvasSupported: false,
    stopAtErrors: false,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  try {
    const document = await task.promise.catch((error: unknown) => {
      throw openingError(error);
    });
    const collector = new SectionCollector();
    for (let number = 1; number <= document.numPages; number += 1) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      const items = content.items.filter((item): item is TextItem & typeof item => 'str' in item);
      for (const paragraph of pageParagraphs(items)) collector.add(paragraph, number);
      page.cleanup();
    }
    if (collector.sections.length === 0) throw new ExtractionError('no text layer (OCR needed)');
    const { info } = await document.getMetadata();
    const title = collapseWhitespace(String((info as { Title?: unknown } | undefined)?.Title ?? ''));
    return { title: title || null, sections: collector.sections, pageCount: document.numPages };
  } finally {
    await task.destroy();
  }
}

function openingError(error: unknown): ExtractionError {
  const name = (error as { name?: unknown }).name;
  if (name === 'PasswordException') {
    return new ExtractionError('the PDF is encrypted and needs a password; upload a copy without a password');
  }
  const reason = name === 'InvalidPDFException' ? 'its structure is invalid' : 'it could not be parsed';
  return Object.assign(new ExtractionError(`the PDF is damaged or not a PDF: ${reason}`), { cause: error });
}

function pageParagraphs(items: readonly TextItem[]): string[] {
  const page = new PageText();
  for (const item of items) page.add(item);
  return page.finish();
}

class PageText {
  private readonly paragraphs: string[] = [];
  private lines: string[] = [];
  private line = '';
  private lineY: number | null = null;
  private lineHeight = 0;
  private previousLineY: number | null = null;
  private lineEnded = false;

  add(item: TextItem): void {
    const y = item.transform[5] ?? 0;
    const height = item.height || Math.abs(item.transform[3] ?? 0) || 1;
    if (this.lineEnded || (this.lineY !== null && Math.abs(y - this.lineY) > height / 2)) {
      const lineHeight = this.lineHeight || height;
      this.endLine();
      const previous = this.previousLineY;
      if (previous !== null && (previous - y > lineHeight * 1.8 || y - previous > height / 2)) this.endParagraph();
    }
    if (item.str !== '') {
      this.lineY ??= y;
      this.line += item.str;
      this.lineHeight = Math.max(this.lineHeight, height);
    }
    if (item.hasEOL) this.lineEnded = true;
  }

  finish(): string[] {
    this.endLine();
    this.endParagraph();
    return this.paragraphs;
  }

  private endLine(): void {
    const text = collapseWhitespace(this.line);
    if (text !== '') {
      this.lines.push(text);
      this.previousLineY = this.lineY;
    }
    this.line = '';
    this.lineY = null;
    this.lineHeight = 0;
    this.lineEnded = false;
  }

  private endParagraph(): void {
    if (this.lines.length > 0) this.paragraphs.push(this.lines.join(' '));
    this.lines = [];
  }
}
