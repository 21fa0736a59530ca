import type { OutboundReason } from '../../outbound/outbound-error.js';

/**
 * The reasons a URL of a crawl was not indexed, in the words the file's problems show a user
 * (docs/knowledge-crawling.md lists each). One place, so the docs and the tests read the same text.
 */
export const CRAWL_REASONS = {
  disallowedByRobots: 'disallowed by robots.txt',
  javaScriptShell:
    'the page needs JavaScript to show its content (a JavaScript-only page); Parley indexes server-rendered HTML',
  noindex: 'not indexed: the page asks not to be indexed (meta robots noindex)',
  invalidUrl: 'not fetched: not a valid http or https URL',
  httpStatus: (status: number) => `HTTP ${status}`,
  redirectedOffSite: (url: string) => `redirected off the site to ${url}`,
  notAPage: (contentType: string) =>
    `not indexed: ${contentType || 'a response without a Content-Type'} is not an HTML page (add a document's URL on its own to index it)`,
  notADocument: (contentType: string) =>
    `not indexed: ${contentType || 'a response without a Content-Type'} is not a page or a document Parley indexes`,
  robotsUnavailable: (detail: string) =>
    `not fetched: robots.txt ${detail}, so the site is treated as closed to crawlers (RFC 9309)`,
  sitemapUnreadable: (detail: string) => `sitemap not read: ${detail}`,
} as const;

/** What the guarded client's refusal or failure means for one URL, e.g. "not fetched: the address is private (refused by the outbound policy)". */
export function outboundReason(reason: OutboundReason, limits: { maxBytes: number; timeoutMs: number }): string {
  return `not fetched: ${outboundDetail(reason, limits)}`;
}

/** The same without the "not fetched: " lead, for sentences of their own ("robots.txt could not be fetched (…)"). */
export function outboundDetail(reason: OutboundReason, limits: { maxBytes: number; timeoutMs: number }): string {
  switch (reason) {
    case 'address':
      return 'the address is private (refused by the outbound policy)';
    case 'host':
      return 'the host name is internal to this network (refused by the outbound policy)';
    case 'port':
      return 'only ports 80 and 443 may be fetched (refused by the outbound policy)';
    case 'userinfo':
      return 'the URL carries a user name or password (refused by the outbound policy)';
    case 'scheme':
    case 'url':
      return 'not a valid http or https URL';
    case 'redirect_limit':
      return 'too many redirects';
    case 'dns':
      return 'the host name does not resolve';
    case 'connect':
      return 'the server could not be reached';
    case 'timeout':
      return `no complete answer within ${limits.timeoutMs / 1000} s`;
    case 'aborted':
      return 'the crawl was stopped';
    case 'response_too_large':
      return `the response is larger than the crawler's limit of ${formatBytes(limits.maxBytes)}`;
    case 'headers_too_large':
      return 'the response headers are too large';
    case 'invalid_response':
      return 'the server did not answer with HTTP';
    case 'invalid_request':
      return 'the request could not be sent';
  }
}

function formatBytes(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes >= mib && bytes % mib === 0) return `${bytes / mib} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
