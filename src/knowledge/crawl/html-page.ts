import { TextDecoder } from 'node:util';
import { parseHTML } from 'linkedom';
import { isJavaScriptShellDocument, type HtmlDocument } from './javascript-shell.js';
import { normalizeCrawlUrl } from './site-scope.js';

/** What the crawler reads from an HTML page. */
export interface HtmlPage {
  readonly title: string | null;
  /** `<a href>` targets, resolved, normalised and deduplicated in document order; `rel=nofollow` ones left out. */
  readonly links: readonly string[];
  /** `<meta name="robots">` (or `name="parley"`) says noindex / nofollow (`none` says both). */
  readonly noindex: boolean;
  readonly nofollow: boolean;
  readonly javaScriptShell: boolean;
}

export function readHtmlPage(input: { body: Uint8Array; contentType: string | undefined; url: string }): HtmlPage {
  const document = parseHtmlBytes(input.body, input.contentType);
  const directives = robotsDirectives(document);
  return {
    title: pageTitle(document),
    links: pageLinks(document, input.url),
    noindex: directives.has('noindex') || directives.has('none'),
    nofollow: directives.has('nofollow') || directives.has('none'),
    // Last: the test removes the page's scripts and styles from the document.
    javaScriptShell: isJavaScriptShellDocument(document),
  };
}

/**
 * The page decoded with the charset its Content-Type names, else the one a `<meta charset>` (or
 * `http-equiv`) names, else UTF-8: the HTML standard's order without its byte-pattern sniffing.
 */
function parseHtmlBytes(body: Uint8Array, contentType: string | undefined): HtmlDocument {
  const declared = decoderFor(charsetParameter(contentType));
  if (declared) return parseHTML(declared.decode(body)).document;
  const document = parseHTML(new TextDecoder().decode(body)).document;
  const meta = decoderFor(metaCharset(document));
  if (!meta || meta.encoding === 'utf-8') return document;
  return parseHTML(meta.decode(body)).document;
}

function charsetParameter(contentType: string | undefined): string | null {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset') return value.trim().replace(/^"|"$/g, '');
  }
  return null;
}

function metaCharset(document: HtmlDocument): string | null {
  const charset = document.querySelector('meta[charset]')?.getAttribute('charset');
  if (charset) return charset;
  const httpEquiv = [...document.querySelectorAll('meta[http-equiv][content]')].find(
    (element) => element.getAttribute('http-equiv')?.toLowerCase() === 'content-type',
  );
  return charsetParameter(httpEquiv?.getAttribute('content') ?? undefined);
}

function decoderFor(label: string | null): TextDecoder | null {
  if (!label) return null;
  try {
    return new TextDecoder(label);
  } catch (error) {
    // An encoding label the WHATWG Encoding standard does not know: like browsers, keep the default.
    if (error instanceof RangeError) return null;
    throw error;
  }
}

function pageTitle(document: HtmlDocument): string | null {
  const title = (document.querySelector('title')?.textContent ?? '').replace(/\s+/g, ' ').trim();
  return title === '' ? null : title;
}

function robotsDirectives(document: HtmlDocument): Set<string> {
  const directives = new Set<string>();
  for (const meta of document.querySelectorAll('meta[name][content]')) {
    const name = meta.getAttribute('name')?.toLowerCase();
    if (name !== 'robots' && name !== 'parley') continue;
    for (const token of (meta.getAttribute('content') ?? '').split(',')) directives.add(token.trim().toLowerCase());
  }
  return directives;
}

function pageLinks(document: HtmlDocument, pageUrl: string): string[] {
  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  const base = (baseHref && normalizeCrawlUrl(baseHref, pageUrl)) || pageUrl;
  const links = new Set<string>();
  for (const anchor of document.querySelectorAll('a[href]')) {
    const rel = (anchor.getAttribute('rel') ?? '').toLowerCase().split(/\s+/);
    if (rel.includes('nofollow')) continue;
    const link = normalizeCrawlUrl(anchor.getAttribute('href') ?? '', base);
    if (link !== null) links.add(link);
  }
  return [...links];
}
