import type { OutboundClient, OutboundResponse } from '../../outbound/outbound-client.js';
import { OutboundError } from '../../outbound/outbound-error.js';
import { createCrawlFetcher, CRAWL_REQUEST_TIMEOUT_MS, type CrawlFetcher } from './crawl-fetcher.js';
import { CRAWL_REASONS, outboundReason } from './crawl-reasons.js';
import { readHtmlPage } from './html-page.js';
import { createRobotsCache, type RobotsCache } from './robots-rules.js';
import { isOnSite, normalizeCrawlUrl, siteOf } from './site-scope.js';
import { readSitemapUrls } from './sitemaps.js';

export { isJavaScriptShell } from './javascript-shell.js';

/**
 * URL ingestion's crawler (docs/knowledge-crawling.md): breadth-first over one site, through the
 * guarded outbound client, within robots.txt, handing each page to the ingestion job.
 */
export interface CrawledPage {
  /** Final URL after redirects. */
  readonly url: string;
  /** 0 = the start URL. */
  readonly depth: number;
  readonly status: number;
  /** Lower-case media type without parameters. */
  readonly contentType: string;
  /** HTML, or a document (PDF, text…) the start URL pointed at. */
  readonly body: Uint8Array;
  /** `<title>` for HTML. */
  readonly title: string | null;
}

/** A URL that was not indexed, with a reason a user can read (crawl-reasons.ts). */
export interface CrawlProblem {
  readonly url: string;
  readonly reason: string;
}

export interface CrawlResult {
  readonly pagesDone: number;
  readonly problems: readonly CrawlProblem[];
  readonly stoppedBy: 'done' | 'page_cap' | 'aborted';
}

export interface CrawlInput {
  startUrl: string;
  /** The one guarded client (src/outbound/outbound-client.ts). */
  outbound: OutboundClient;
  maxDepth: number;
  /** Pages fetched (whatever they answer); robots.txt and sitemap files do not count. */
  maxPages: number;
  maxPageBytes: number;
  userAgent: string;
  signal: AbortSignal;
  /** Awaited: back-pressure; a throw aborts the crawl with that error. */
  onPage(page: CrawledPage): Promise<void>;
  onProgress?(progress: { pagesDone: number; pagesQueued: number; problems: number }): void;
}

/** Problems kept per crawl; a site of broken links should not make a file's record unbounded. */
export const MAX_CRAWL_PROBLEMS = 200;

const HTML_TYPES: ReadonlySet<string> = new Set(['text/html', 'application/xhtml+xml']);

/**
 * What the start URL may be besides a page: the documents extraction reads. Octet-stream and a
 * missing type are let through because extraction decides the kind from the bytes (document.ts).
 */
const DOCUMENT_TYPES: ReadonlySet<string> = new Set([
  'application/pdf',
  'text/plain',
  'text/markdown',
  'text/x-markdown',
  'text/csv',
  'application/json',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/octet-stream',
  '',
]);

const PAGE_ACCEPT = 'text/html, application/xhtml+xml;q=0.9, */*;q=0.5';

interface QueuedUrl {
  readonly url: string;
  readonly depth: number;
}

interface Crawl {
  readonly input: CrawlInput;
  readonly fetcher: CrawlFetcher;
  readonly robots: RobotsCache;
  readonly queue: QueuedUrl[];
  /** Queued or reported: a URL is considered once. */
  readonly seen: Set<string>;
  /** Fetched, under the URL asked for and the URL that answered. */
  readonly visited: Set<string>;
  readonly problems: CrawlProblem[];
  /** The start URL's final URL's site; null until it answered. */
  site: string | null;
  pagesDone: number;
  pagesFetched: number;
}

export async function crawlSite(input: CrawlInput): Promise<CrawlResult> {
  const fetcher = createCrawlFetcher({ outbound: input.outbound, userAgent: input.userAgent, signal: input.signal });
  const crawl: Crawl = {
    input,
    fetcher,
    robots: createRobotsCache(fetcher),
    queue: [],
    seen: new Set(),
    visited: new Set(),
    problems: [],
    site: null,
    pagesDone: 0,
    pagesFetched: 0,
  };
  const start = normalizeCrawlUrl(input.startUrl);
  if (start === null) {
    addProblem(crawl, { url: input.startUrl, reason: CRAWL_REASONS.invalidUrl });
    return result(crawl, 'done');
  }
  crawl.seen.add(start);
  crawl.queue.push({ url: start, depth: 0 });
  return result(crawl, await drainQueue(crawl));
}

async function drainQueue(crawl: Crawl): Promise<CrawlResult['stoppedBy']> {
  const { signal } = crawl.input;
  for (let next = crawl.queue.shift(); next !== undefined; next = crawl.queue.shift()) {
    if (signal.aborted) return 'aborted';
    if (crawl.visited.has(next.url)) continue;
    const robots = await crawl.robots.forUrl(next.url);
    const refusal = robots.refusal(next.url);
    if (signal.aborted) return 'aborted';
    if (refusal !== null) {
      addProblem(crawl, { url: next.url, reason: refusal });
      continue;
    }
    if (crawl.pagesFetched >= crawl.input.maxPages) return 'page_cap';
    crawl.pagesFetched += 1;
    await visit(crawl, next, robots.delayMs);
    if (signal.aborted) return 'aborted';
    crawl.input.onProgress?.({
      pagesDone: crawl.pagesDone,
      pagesQueued: crawl.queue.length,
      problems: crawl.problems.length,
    });
  }
  return signal.aborted ? 'aborted' : 'done';
}

async function visit(crawl: Crawl, item: QueuedUrl, delayMs: number): Promise<void> {
  const { maxPageBytes } = crawl.input;
  crawl.visited.add(item.url);
  const { response, error } = await crawl.fetcher.get({
    url: item.url,
    accept: PAGE_ACCEPT,
    maxBytes: maxPageBytes,
    delayMs,
  });
  if (error) {
    if (!crawl.input.signal.aborted) {
      const limits = { maxBytes: maxPageBytes, timeoutMs: CRAWL_REQUEST_TIMEOUT_MS };
      addProblem(crawl, { url: item.url, reason: outboundReason(error.reason, limits) });
    }
    return;
  }
  const finalUrl = normalizeCrawlUrl(response.url) ?? response.url;
  // The site is where the start URL landed (http → https, example.com → www.example.com…).
  crawl.site ??= siteOf(finalUrl);
  if (!isOnSite(finalUrl, crawl.site)) {
    addProblem(crawl, { url: item.url, reason: CRAWL_REASONS.redirectedOffSite(finalUrl) });
    return;
  }
  if (finalUrl !== item.url && !(await arrivedAtNewPage(crawl, item, finalUrl))) return;
  if (response.status < 200 || response.status >= 300) {
    addProblem(crawl, { url: item.url, reason: CRAWL_REASONS.httpStatus(response.status) });
    return;
  }
  await handleResponse(crawl, { item, response, finalUrl });
}

/**
 * After a redirect within the site: false when another URL already led to the same page, or
 * robots.txt disallows where the redirect went (the client followed it without asking).
 */
async function arrivedAtNewPage(crawl: Crawl, item: QueuedUrl, finalUrl: string): Promise<boolean> {
  if (crawl.visited.has(finalUrl)) return false;
  crawl.visited.add(finalUrl);
  crawl.seen.add(finalUrl);
  const refusal = (await crawl.robots.forUrl(finalUrl)).refusal(finalUrl);
  if (refusal === null) return true;
  addProblem(crawl, { url: item.url, reason: refusal });
  return false;
}

async function handleResponse(
  crawl: Crawl,
  answer: { item: QueuedUrl; response: OutboundResponse; finalUrl: string },
): Promise<void> {
  const { item, response, finalUrl } = answer;
  const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const page = { url: finalUrl, depth: item.depth, status: response.status, contentType, body: response.body };
  if (HTML_TYPES.has(contentType)) {
    await handleHtml(crawl, { item, page, contentTypeHeader: response.headers['content-type'] });
  } else if (item.depth === 0 && DOCUMENT_TYPES.has(contentType)) {
    await deliver(crawl, { ...page, title: null });
  } else {
    const reason = item.depth === 0 ? CRAWL_REASONS.notADocument(contentType) : CRAWL_REASONS.notAPage(contentType);
    addProblem(crawl, { url: item.url, reason });
  }
}

async function handleHtml(
  crawl: Crawl,
  input: { item: QueuedUrl; page: Omit<CrawledPage, 'title'>; contentTypeHeader: string | undefined },
): Promise<void> {
  const { item, page } = input;
  const html = readHtmlPage({ body: page.body, contentType: input.contentTypeHeader, url: page.url });
  if (html.noindex) addProblem(crawl, { url: item.url, reason: CRAWL_REASONS.noindex });
  else if (html.javaScriptShell) addProblem(crawl, { url: item.url, reason: CRAWL_REASONS.javaScriptShell });
  else await deliver(crawl, { ...page, title: html.title });
  if (page.depth >= crawl.input.maxDepth) return;
  // A shell's links are still followed: its menu is often server-rendered while its body is not.
  if (!html.nofollow) html.links.forEach((link) => consider(crawl, { url: link, depth: page.depth + 1 }));
  if (page.depth === 0) await queueSitemapUrls(crawl, page.url);
}

async function deliver(crawl: Crawl, page: CrawledPage): Promise<void> {
  await crawl.input.onPage(page);
  crawl.pagesDone += 1;
}

/**
 * Queues a link on the site. A link elsewhere is not followed and not reported, unless the
 * outbound policy refuses it outright (a private or metadata address): that is worth a line in
 * the file's problems, since a page pointing the crawler there is either an intranet link the
 * user expected to be indexed or an attempt at server-side request forgery.
 */
function consider(crawl: Crawl, item: QueuedUrl): void {
  if (crawl.seen.has(item.url)) return;
  crawl.seen.add(item.url);
  if (crawl.site !== null && isOnSite(item.url, crawl.site)) {
    crawl.queue.push(item);
    return;
  }
  try {
    crawl.input.outbound.checkUrl(item.url);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    const limits = { maxBytes: crawl.input.maxPageBytes, timeoutMs: CRAWL_REQUEST_TIMEOUT_MS };
    addProblem(crawl, { url: item.url, reason: outboundReason(error.reason, limits) });
  }
}

async function queueSitemapUrls(crawl: Crawl, startUrl: string): Promise<void> {
  const { urls, problems } = await readSitemapUrls({
    fetcher: crawl.fetcher,
    robots: await crawl.robots.forUrl(startUrl),
    origin: new URL(startUrl).origin,
    site: crawl.site ?? siteOf(startUrl),
    maxUrls: crawl.input.maxPages,
    maxBytes: crawl.input.maxPageBytes,
    signal: crawl.input.signal,
  });
  problems.forEach((problem) => addProblem(crawl, problem));
  urls.forEach((url) => consider(crawl, { url, depth: 1 }));
}

function addProblem(crawl: Crawl, problem: CrawlProblem): void {
  if (crawl.problems.length < MAX_CRAWL_PROBLEMS) crawl.problems.push(problem);
}

function result(crawl: Crawl, stoppedBy: CrawlResult['stoppedBy']): CrawlResult {
  return { pagesDone: crawl.pagesDone, problems: crawl.problems, stoppedBy };
}
