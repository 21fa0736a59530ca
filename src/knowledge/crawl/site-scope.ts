/**
 * Which URLs belong to the site being crawled, and the one spelling of a URL the crawler keys
 * its queue on (docs/knowledge-crawling.md, "Site scope").
 */

/**
 * The URL as the crawler queues it: http(s) only, fragment removed, host lower-cased and default
 * port dropped (WHATWG URL parsing does both), an empty query dropped, the query kept in its order (reordering it can
 * change what a server answers). Null for anything else (mailto:, javascript:, a bad URL).
 */
export function normalizeCrawlUrl(href: string, base?: string): string | null {
  if (!URL.canParse(href, base)) return null;
  const url = new URL(href, base);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.hash = '';
  // `/page?` is `/page`: the outbound client sends an empty query as none.
  if (url.search === '') url.search = '';
  return url.href;
}

/**
 * A site is a host name without a leading `www.` and a port (default ports count as none), over
 * http or https: `http://example.com/`, `https://www.example.com/` and `https://example.com:443/`
 * are one site; `docs.example.com` and `example.com:8080` are others. Registrable domains
 * (eTLD+1) are deliberately not used: they would need the public suffix list and would put
 * every `*.github.io` page in one site.
 */
export function siteOf(url: string | URL): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const host = parsed.hostname.startsWith('www.') ? parsed.hostname.slice('www.'.length) : parsed.hostname;
  return `${host}:${parsed.port}`;
}

export function isOnSite(url: string, site: string): boolean {
  return siteOf(url) === site;
}
