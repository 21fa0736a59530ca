import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crawlSites, htmlPage, startSiteServer, type SiteServer } from '../fixtures/site-server.js';

/**
 * The crawler's walk over a site (docs/knowledge-crawling.md): breadth-first order, depth and
 * page caps, sitemaps, what each page hands the ingestion job. A real guarded client allowed to
 * reach only the fixture's loopback port.
 */
let site: SiteServer;
beforeEach(async () => {
  site = await startSiteServer();
});
afterEach(() => site.close());

/** / → a, b; a → c; c → d: d is at depth 3. */
function linkedSite() {
  site.routes({
    '/': { body: htmlPage({ title: 'Home', links: ['/a', 'b#section', `${site.origin}/a`, 'mailto:x@example.com'] }) },
    '/a': { body: htmlPage({ title: 'A', links: ['/', 'c', '/b?'] }) },
    '/b': { body: htmlPage({ title: 'B', links: ['/a#again'] }) },
    '/c': { body: htmlPage({ title: 'C', links: ['/d'] }) },
    '/d': { body: htmlPage({ title: 'D' }) },
  });
}

describe('crawlSite: the walk', () => {
  it('visits the site breadth-first to maxDepth, each page once, and hands over what it fetched', async () => {
    linkedSite();
    const progress: unknown[] = [];
    const { result, pages, requested } = await crawlSites([site], {
      startUrl: `${site.origin}/`,
      onProgress: (entry) => progress.push(entry),
    });
    expect(result).toEqual({ pagesDone: 4, problems: [], stoppedBy: 'done' });
    expect(pages.map((page) => [page.url.slice(site.origin.length), page.depth, page.title])).toEqual([
      ['/', 0, 'Home'],
      ['/a', 1, 'A'],
      ['/b', 1, 'B'],
      ['/c', 2, 'C'],
    ]);
    expect(pages[0]).toMatchObject({ status: 200, contentType: 'text/html' });
    expect(Buffer.from(pages[1]!.body).toString('utf8')).toBe(htmlPage({ title: 'A', links: ['/', 'c', '/b?'] }));
    // robots.txt and /sitemap.xml (both 404 here) once each; /d (depth 3) never; `/b?` is /b.
    expect(site.requested).toEqual(['/robots.txt', '/', '/sitemap.xml', '/a', '/b', '/c']);
    expect(requested.every((url) => url.startsWith(`${site.origin}/`))).toBe(true);
    expect(new Set(site.userAgents)).toEqual(new Set(['Parley/test']));
    expect(progress).toEqual([
      { pagesDone: 1, pagesQueued: 2, problems: 0 },
      { pagesDone: 2, pagesQueued: 2, problems: 0 },
      { pagesDone: 3, pagesQueued: 1, problems: 0 },
      { pagesDone: 4, pagesQueued: 0, problems: 0 },
    ]);
  });

  it('stops at maxPages with stoppedBy page_cap', async () => {
    linkedSite();
    const { result, pages } = await crawlSites([site], { startUrl: `${site.origin}/`, maxPages: 2 });
    expect(result).toEqual({ pagesDone: 2, problems: [], stoppedBy: 'page_cap' });
    expect(pages.map((page) => page.url)).toEqual([`${site.origin}/`, `${site.origin}/a`]);
    expect(site.requested).toEqual(['/robots.txt', '/', '/sitemap.xml', '/a']);
  });

  it('is done, not capped, when the cap is reached with nothing left to fetch', async () => {
    site.routes({
      '/': { body: htmlPage({ title: 'Home', links: ['/a'] }) },
      '/a': { body: htmlPage({ title: 'A' }) },
    });
    const { result } = await crawlSites([site], { startUrl: `${site.origin}/`, maxPages: 2 });
    expect(result).toEqual({ pagesDone: 2, problems: [], stoppedBy: 'done' });
  });

  it('fetches the start URL alone at maxDepth 0, with no sitemap', async () => {
    linkedSite();
    const { result, pages } = await crawlSites([site], { startUrl: `${site.origin}/`, maxDepth: 0 });
    expect(result).toEqual({ pagesDone: 1, problems: [], stoppedBy: 'done' });
    expect(pages.map((page) => page.url)).toEqual([`${site.origin}/`]);
    expect(site.requested).toEqual(['/robots.txt', '/']);
  });

  it('hands over a start URL that is a document as it is, and follows nothing', async () => {
    const pdf = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x37, 0x0a]);
    site.routes({ '/guide.pdf': { type: 'application/pdf', body: pdf } });
    const { result, pages } = await crawlSites([site], { startUrl: `${site.origin}/guide.pdf` });
    expect(result).toEqual({ pagesDone: 1, problems: [], stoppedBy: 'done' });
    expect(pages.map((page) => ({ ...page, body: [...page.body] }))).toEqual([
      {
        url: `${site.origin}/guide.pdf`,
        depth: 0,
        status: 200,
        contentType: 'application/pdf',
        body: [...pdf],
        title: null,
      },
    ]);
    expect(site.requested).toEqual(['/robots.txt', '/guide.pdf']);
  });

  it('takes a Markdown start URL and refuses a stylesheet', async () => {
    site.routes({
      '/notes.md': { type: 'text/markdown; charset=utf-8', body: '# Notes\n' },
      '/site.css': { type: 'text/css', body: 'body { color: red }' },
    });
    const markdown = await crawlSites([site], { startUrl: `${site.origin}/notes.md` });
    expect(markdown.pages.map((page) => [page.url, page.contentType])).toEqual([
      [`${site.origin}/notes.md`, 'text/markdown'],
    ]);
    const css = await crawlSites([site], { startUrl: `${site.origin}/site.css` });
    expect(css.result).toEqual({
      pagesDone: 0,
      problems: [
        { url: `${site.origin}/site.css`, reason: 'not indexed: text/css is not a page or a document Parley indexes' },
      ],
      stoppedBy: 'done',
    });
  });
});

describe('crawlSite: sitemaps', () => {
  it('queues the site URLs of the robots.txt sitemaps, /sitemap.xml and an index, at depth 1 after the links', async () => {
    site.routes({
      '/robots.txt': { type: 'text/plain', body: `User-agent: *\nAllow: /\nSitemap: ${site.origin}/maps/index.xml\n` },
      '/maps/index.xml': {
        type: 'application/xml',
        body: `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${site.origin}/maps/pages.xml</loc></sitemap><sitemap><loc>http://10.0.0.1/maps.xml</loc></sitemap></sitemapindex>`,
      },
      '/maps/pages.xml': {
        type: 'application/xml',
        body: `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc> ${site.origin}/deep?x=1&amp;y=2 </loc></url><url><loc>${site.origin}/a</loc></url><url><loc>https://other.example/page</loc></url></urlset>`,
      },
      '/sitemap.xml': { type: 'text/html', body: htmlPage({ title: 'Not a sitemap' }) },
      '/': { body: htmlPage({ title: 'Home', links: ['/a'] }) },
      '/a': { body: htmlPage({ title: 'A' }) },
      '/deep?x=1&y=2': { body: htmlPage({ title: 'Deep', links: ['/deeper'] }) },
      '/deeper': { body: htmlPage({ title: 'Deeper' }) },
    });
    const { result, pages, requested } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(result).toEqual({ pagesDone: 4, problems: [], stoppedBy: 'done' });
    expect(pages.map((page) => [page.url.slice(site.origin.length), page.depth])).toEqual([
      ['/', 0],
      ['/a', 1],
      ['/deep?x=1&y=2', 1],
      ['/deeper', 2],
    ]);
    expect(site.requested).toEqual([
      '/robots.txt',
      '/',
      '/maps/index.xml',
      '/sitemap.xml',
      '/maps/pages.xml',
      '/a',
      '/deep?x=1&y=2',
      '/deeper',
    ]);
    expect(requested.every((url) => url.startsWith(`${site.origin}/`))).toBe(true);
  });

  it('reports a sitemap that cannot be read and crawls on', async () => {
    site.routes({
      '/': { body: htmlPage({ title: 'Home' }) },
      '/sitemap.xml': { status: 500, type: 'text/plain', body: 'broken' },
    });
    const { result } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(result).toEqual({
      pagesDone: 1,
      problems: [{ url: `${site.origin}/sitemap.xml`, reason: 'sitemap not read: HTTP 500' }],
      stoppedBy: 'done',
    });
  });
});
