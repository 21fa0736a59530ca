import { DOMParser } from 'linkedom';
import { CRAWL_REASONS, outboundDetail } from './crawl-reasons.js';
import { CRAWL_REQUEST_TIMEOUT_MS, type CrawlFetcher } from './crawl-fetcher.js';
import type { OriginRobots } from './robots-rules.js';
import { isOnSite, normalizeCrawlUrl } from './site-scope.js';

/** Sitemap files read per crawl (the robots.txt ones, /sitemap.xml, and a sitemap index's children). */
export const MAX_SITEMAP_FILES = 5;

/**
 * The page URLs the site's sitemaps list, on the site only, at most `maxUrls`: the files named by
 * the origin's robots.txt `Sitemap:` lines, then `/sitemap.xml`, then the files a sitemap index
 * names. A missing sitemap (404, 410) or a response that is not a sitemap (an HTML page a site
 * serves for any path) adds nothing; a sitemap that cannot be read is a problem.
 */
export async function readSitemapUrls(input: {
  fetcher: CrawlFetcher;
  robots: OriginRobots;
  origin: string;
  site: string;
  maxUrls: number;
  maxBytes: number;
  signal: AbortSignal;
}): Promise<{ urls: string[]; problems: { url: string; reason: string }[] }> {
  const files = new Set(onSite([...input.robots.sitemaps, `${input.origin}/sitemap.xml`], input.site));
  const urls = new Set<string>();
  const problems: { url: string; reason: string }[] = [];
  let read = 0;
  for (const file of files) {
    if (read === MAX_SITEMAP_FILES || urls.size >= input.maxUrls || input.signal.aborted) break;
    read += 1;
    const outcome = await readSitemap({ ...input, url: file });
    // A request cut short by the crawl's abort is not a problem of the sitemap.
    if (input.signal.aborted) break;
    if ('problem' in outcome) problems.push({ url: file, reason: outcome.problem });
    else if (outcome.kind === 'index') onSite(outcome.locations, input.site).forEach((child) => files.add(child));
    else onSite(outcome.locations, input.site).forEach((url) => urls.size < input.maxUrls && urls.add(url));
  }
  return { urls: [...urls], problems };
}

type SitemapOutcome = { problem: string } | { kind: 'urls' | 'index'; locations: string[] };

async function readSitemap(input: {
  fetcher: CrawlFetcher;
  robots: OriginRobots;
  url: string;
  maxBytes: number;
}): Promise<SitemapOutcome> {
  const { response, error } = await input.fetcher.get({
    url: input.url,
    accept: 'application/xml, text/xml;q=0.9, */*;q=0.1',
    maxBytes: input.maxBytes,
    delayMs: input.robots.delayMs,
  });
  if (error) {
    const limits = { maxBytes: input.maxBytes, timeoutMs: CRAWL_REQUEST_TIMEOUT_MS };
    return { problem: CRAWL_REASONS.sitemapUnreadable(outboundDetail(error.reason, limits)) };
  }
  if (response.status === 404 || response.status === 410) return { kind: 'urls', locations: [] };
  if (response.status < 200 || response.status >= 300) {
    return { problem: CRAWL_REASONS.sitemapUnreadable(`HTTP ${response.status}`) };
  }
  return parseSitemap(new TextDecoder().decode(response.body));
}

/** `<urlset><url><loc>` or `<sitemapindex><sitemap><loc>` (sitemaps.org 0.9); anything else lists nothing. */
function parseSitemap(xml: string): SitemapOutcome {
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  const kind = root?.localName === 'sitemapindex' ? 'index' : root?.localName === 'urlset' ? 'urls' : null;
  if (!root || !kind) return { kind: 'urls', locations: [] };
  const locations = [...root.getElementsByTagName('loc')].map((element) => (element.textContent ?? '').trim());
  return { kind, locations };
}

function onSite(urls: readonly string[], site: string): string[] {
  return urls.flatMap((url) => {
    const normalized = normalizeCrawlUrl(url);
    return normalized !== null && isOnSite(normalized, site) ? [normalized] : [];
  });
}
