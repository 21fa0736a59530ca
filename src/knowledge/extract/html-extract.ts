import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import type { ExtractedDocument } from '../document.js';
import { collectHtmlSections, type HtmlNode } from './html-sections.js';
import { collapseWhitespace, SectionCollector } from './section-collector.js';

/**
 * A web page's main content: Readability (Firefox's reader view) over a linkedom document picks
 * the article and leaves navigation, cookie banners and footers out; when it finds nothing,
 * the body is used with nav, footer, scripts and styles dropped. linkedom runs no scripts and
 * fetches nothing.
 */
export function extractHtml(input: { html: string; url?: string }): ExtractedDocument {
  const { document } = parseHTML(input.html);
  if (input.url !== undefined) {
    // Readability resolves links against these; linkedom leaves them unset (null).
    Object.defineProperty(document, 'documentURI', { value: input.url });
    Object.defineProperty(document, 'baseURI', { value: input.url });
  }
  const pageTitle = collapseWhitespace(document.querySelector('title')?.textContent ?? '');
  // Readability changes the tree it reads, so the fallback parses the page again.
  const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0]).parse();
  const collector = new SectionCollector();
  if (article?.content && collapseWhitespace(article.textContent ?? '') !== '') {
    const { document: content } = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`);
    collectHtmlSections(content.body as unknown as HtmlNode, collector);
  }
  if (collector.sections.length === 0) {
    const { document: page } = parseHTML(input.html);
    if (page.body) collectHtmlSections(page.body as unknown as HtmlNode, collector);
  }
  const title = collapseWhitespace(article?.title ?? '') || pageTitle || collector.firstHeading;
  return { title: title || null, sections: collector.sections, pageCount: null };
}
