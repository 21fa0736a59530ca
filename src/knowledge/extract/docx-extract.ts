import { parseHTML } from 'linkedom';
import mammoth from 'mammoth';
import { ExtractionError, type ExtractedDocument } from '../document.js';
import { collectHtmlSections, type HtmlNode } from './html-sections.js';
import { OoxmlPackage } from './ooxml-package.js';
import { SectionCollector } from './section-collector.js';

/**
 * A Word document through mammoth's HTML rendering: Word's heading styles become h1–h6 (and so
 * the heading path), paragraphs and list items become sections, tables become one section per
 * row. Images are dropped (mammoth would inline them as data URIs).
 *
 * mammoth reads the package with jszip, which inflates a part whole before it compares its size
 * with the directory's (in buffers outside the capped JS heap). So every part mammoth may read
 * is first inflated once by the bounded reader, which stops at the declared size: a package
 * whose directory lies is refused before jszip sees it. Media is skipped: images are not read.
 */
export async function extractDocx(bytes: Uint8Array): Promise<ExtractedDocument> {
  await (await OoxmlPackage.open(bytes)).verifyParts({ except: 'word/media/' });
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      { convertImage: mammoth.images.imgElement(async () => ({ src: '' })) },
    );
    html = result.value;
  } catch (error) {
    // mammoth's and jszip's messages are their internals; the cause keeps them for the log.
    throw Object.assign(new ExtractionError('the DOCX file is damaged or incomplete'), { cause: error });
  }
  const { document } = parseHTML(`<!doctype html><html><body>${html}</body></html>`);
  const collector = new SectionCollector();
  collectHtmlSections(document.body as unknown as HtmlNode, collector);
  return { title: collector.firstHeading, sections: collector.sections, pageCount: null };
}
