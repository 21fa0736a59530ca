import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crawlSites, htmlPage, startSiteServer, type SiteServer } from '../fixtures/site-server.js';

/**
 * Pages the crawler fetches but does not hand over, with their exact reasons, and how a crawl
 * ends early: JavaScript-only pages, HTTP errors, pages past the size cap, linked documents,
 * abort, and a failing onPage.
 */
let site: SiteServer;
beforeEach(async () => {
  site = await startSiteServer();
});
afterEach(() => site.close());

const REACT_SHELL = [
  '<!doctype html><html><head><title>App</title><script defer src="/static/js/main.js"></script></head>',
  '<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>',
  '<nav><a href="/docs">Docs</a></nav></body></html>',
].join('');

describe('crawlSite: pages it does not index', () => {
  it('reports a JavaScript-only page and still follows its links', async () => {
    site.routes({ '/': { body: REACT_SHELL }, '/docs': { body: htmlPage({ title: 'Docs' }) } });
    const { result, pages } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(result).toEqual({
      pagesDone: 1,
      problems: [
        {
          url: `${site.origin}/`,
          reason:
            'the page needs JavaScript to show its content (a JavaScript-only page); Parley indexes server-rendered HTML',
        },
      ],
      stoppedBy: 'done',
    });
    expect(pages.map((page) => page.url)).toEqual([`${site.origin}/docs`]);
  });

  it('names HTTP errors, the size cap, linked documents and other media types', async () => {
    site.routes({
      '/': {
        body: htmlPage({ title: 'Home', links: ['/gone', '/broken', '/huge', '/manual.pdf', '/logo.png', '/ok'] }),
      },
      '/broken': { status: 500, type: 'text/plain', body: 'oops' },
      '/huge': { body: htmlPage({ title: 'Huge', body: 'word '.repeat(2000) }) },
      '/manual.pdf': { type: 'application/pdf', body: '%PDF-1.7\n' },
      '/logo.png': { type: 'image/png', body: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) },
      '/ok': { body: htmlPage({ title: 'OK' }) },
    });
    const { result, pages } = await crawlSites([site], { startUrl: `${site.origin}/`, maxPageBytes: 4096 });
    expect(pages.map((page) => page.url)).toEqual([`${site.origin}/`, `${site.origin}/ok`]);
    expect(result.problems).toEqual([
      { url: `${site.origin}/gone`, reason: 'HTTP 404' },
      { url: `${site.origin}/broken`, reason: 'HTTP 500' },
      { url: `${site.origin}/huge`, reason: "not fetched: the response is larger than the crawler's limit of 4 KiB" },
      {
        url: `${site.origin}/manual.pdf`,
        reason: "not indexed: application/pdf is not an HTML page (add a document's URL on its own to index it)",
      },
      {
        url: `${site.origin}/logo.png`,
        reason: "not indexed: image/png is not an HTML page (add a document's URL on its own to index it)",
      },
    ]);
  });
});

describe('crawlSite: ending early', () => {
  it('stops promptly when aborted during a request that never answers', async () => {
    site.routes({
      '/': { body: htmlPage({ title: 'Home', links: ['/slow', '/later'] }) },
      '/slow': { hang: true },
      '/later': { body: htmlPage({ title: 'Later' }) },
    });
    const controller = new AbortController();
    void site.requestFor('/slow').then(() => controller.abort());
    const { result } = await crawlSites([site], { startUrl: `${site.origin}/`, signal: controller.signal });
    expect(result).toEqual({ pagesDone: 1, problems: [], stoppedBy: 'aborted' });
    expect(site.requested).toEqual(['/robots.txt', '/', '/sitemap.xml', '/slow']);
  });

  it('reports no problem for a sitemap request the abort cut short', async () => {
    site.routes({ '/': { body: htmlPage({ title: 'Home', links: ['/a'] }) }, '/sitemap.xml': { hang: true } });
    const controller = new AbortController();
    void site.requestFor('/sitemap.xml').then(() => controller.abort());
    const { result } = await crawlSites([site], { startUrl: `${site.origin}/`, signal: controller.signal });
    expect(result).toEqual({ pagesDone: 1, problems: [], stoppedBy: 'aborted' });
    expect(site.requested).toEqual(['/robots.txt', '/', '/sitemap.xml']);
  });

  it('fetches nothing more once aborted from onPage', async () => {
    site.routes({ '/': { body: htmlPage({ title: 'Home', links: ['/a'] }) } });
    const controller = new AbortController();
    const { result } = await crawlSites([site], {
      startUrl: `${site.origin}/`,
      signal: controller.signal,
      onPage: async () => controller.abort(),
    });
    expect(result).toEqual({ pagesDone: 1, problems: [], stoppedBy: 'aborted' });
    expect(site.requested).toEqual(['/robots.txt', '/']);
  });

  it('rejects with the error onPage throws, fetching nothing after it', async () => {
    site.routes({ '/': { body: htmlPage({ title: 'Home', links: ['/a'] }) } });
    const failure = new Error('the index is full');
    const crawl = crawlSites([site], {
      startUrl: `${site.origin}/`,
      onPage: async () => {
        throw failure;
      },
    });
    await expect(crawl).rejects.toBe(failure);
    expect(site.requested).toEqual(['/robots.txt', '/']);
  });
});
