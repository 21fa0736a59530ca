import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crawlSites, htmlPage, startSiteServer, type SiteServer } from '../fixtures/site-server.js';

/**
 * What the crawler leaves out and says why (docs/knowledge-crawling.md, "Problems"): robots.txt,
 * nofollow / noindex, redirects off the site, the outbound policy, JavaScript-only pages, HTTP
 * errors, size caps, and abort. Only the fixture's loopback port is allowed to the client.
 */
let site: SiteServer;
beforeEach(async () => {
  site = await startSiteServer();
});
afterEach(() => site.close());

const PRIVATE = 'not fetched: the address is private (refused by the outbound policy)';

describe('crawlSite: robots.txt', () => {
  it('follows the Parley group: disallowed URLs are problems and never fetched, Allow wins where longer', async () => {
    site.routes({
      '/robots.txt': {
        type: 'text/plain',
        body: 'User-agent: *\nDisallow: /\n\nUser-agent: Parley\nDisallow: /members\nAllow: /members/public\n',
      },
      '/': { body: htmlPage({ title: 'Home', links: ['/members/list', '/members/public', '/open'] }) },
      '/members/public': { body: htmlPage({ title: 'Public members' }) },
      '/open': { body: htmlPage({ title: 'Open' }) },
    });
    const { result, pages } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(result).toEqual({
      pagesDone: 3,
      problems: [{ url: `${site.origin}/members/list`, reason: 'disallowed by robots.txt' }],
      stoppedBy: 'done',
    });
    expect(pages.map((page) => page.url)).toEqual([
      `${site.origin}/`,
      `${site.origin}/members/public`,
      `${site.origin}/open`,
    ]);
    expect(site.requested).toEqual(['/robots.txt', '/', '/sitemap.xml', '/members/public', '/open']);
  });

  it('treats a robots.txt answering 5xx as disallowing everything (RFC 9309 §2.3.1.4)', async () => {
    site.routes({
      '/robots.txt': { status: 503, type: 'text/plain', body: 'down' },
      '/': { body: htmlPage({ title: 'Home' }) },
    });
    const { result } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(result).toEqual({
      pagesDone: 0,
      problems: [
        {
          url: `${site.origin}/`,
          reason: 'not fetched: robots.txt answered HTTP 503, so the site is treated as closed to crawlers (RFC 9309)',
        },
      ],
      stoppedBy: 'done',
    });
    expect(site.requested).toEqual(['/robots.txt']);
  });

  it('honours a start page disallowed outright', async () => {
    site.routes({
      '/robots.txt': { type: 'text/plain', body: 'User-agent: Parley\nDisallow: /\n' },
      '/': { body: htmlPage({ title: 'Home' }) },
    });
    const { result } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(result.problems).toEqual([{ url: `${site.origin}/`, reason: 'disallowed by robots.txt' }]);
    expect(site.requested).toEqual(['/robots.txt']);
  });
});

describe('crawlSite: nofollow and noindex', () => {
  it('skips rel=nofollow links, follows no link of a meta nofollow page, and indexes no noindex page', async () => {
    site.routes({
      '/': {
        body: htmlPage({ title: 'Home', body: '<a rel="external NoFollow" href="/hidden">h</a>', links: ['/x', '/y'] }),
      },
      '/x': { body: htmlPage({ title: 'X', head: '<meta name="robots" content="nofollow">', links: ['/from-x'] }) },
      '/y': { body: htmlPage({ title: 'Y', head: '<meta name="ROBOTS" content="noindex">', links: ['/from-y'] }) },
      '/from-y': { body: htmlPage({ title: 'From Y' }) },
    });
    const { result, pages } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(pages.map((page) => page.url)).toEqual([`${site.origin}/`, `${site.origin}/x`, `${site.origin}/from-y`]);
    expect(result.problems).toEqual([
      { url: `${site.origin}/y`, reason: 'not indexed: the page asks not to be indexed (meta robots noindex)' },
    ]);
    expect(site.requested).toEqual(['/robots.txt', '/', '/sitemap.xml', '/x', '/y', '/from-y']);
  });
});

describe('crawlSite: redirects', () => {
  let other: SiteServer;
  beforeEach(async () => {
    other = await startSiteServer();
    other.routes({ '/elsewhere': { body: htmlPage({ title: 'Another site' }) } });
  });
  afterEach(() => other.close());

  it('follows redirects on the site, indexes no page of another site, and refuses a private hop', async () => {
    site.routes({
      '/start': { status: 301, redirect: '/' },
      '/': { body: htmlPage({ title: 'Home', links: ['/old', '/new', '/away', '/metadata'] }) },
      '/old': { status: 308, redirect: `${site.origin}/new` },
      '/new': { body: htmlPage({ title: 'New' }) },
      '/away': { redirect: `${other.origin}/elsewhere` },
      '/metadata': { redirect: 'http://169.254.169.254/latest/meta-data/' },
    });
    const { result, pages } = await crawlSites([site, other], { startUrl: `${site.origin}/start` });
    expect(pages.map((page) => [page.url, page.depth])).toEqual([
      [`${site.origin}/`, 0],
      [`${site.origin}/new`, 1],
    ]);
    expect(result).toEqual({
      pagesDone: 2,
      problems: [
        { url: `${site.origin}/away`, reason: `redirected off the site to ${other.origin}/elsewhere` },
        { url: `${site.origin}/metadata`, reason: PRIVATE },
      ],
      stoppedBy: 'done',
    });
    // The client followed the hop to the other site (its policy checks every hop); nothing of it was indexed.
    expect(other.requested).toEqual(['/elsewhere']);
    // /new reached through /old is not fetched again.
    expect(site.requested).toEqual([
      '/robots.txt',
      '/start',
      '/',
      '/sitemap.xml',
      '/old',
      '/new',
      '/away',
      '/metadata',
    ]);
  });
});

describe('crawlSite: the outbound policy', () => {
  it('reports links to private and metadata addresses, follows no off-site link, and reaches only the allowed port', async () => {
    site.routes({
      '/': {
        body: htmlPage({
          title: 'Home',
          links: ['http://10.0.0.1/admin', 'http://169.254.169.254/latest/meta-data/', 'https://example.org/', '/a'],
        }),
      },
      '/a': { body: htmlPage({ title: 'A', links: ['http://10.0.0.1/admin'] }) },
    });
    const { result, requested } = await crawlSites([site], { startUrl: `${site.origin}/` });
    expect(result).toEqual({
      pagesDone: 2,
      problems: [
        { url: 'http://10.0.0.1/admin', reason: PRIVATE },
        { url: 'http://169.254.169.254/latest/meta-data/', reason: PRIVATE },
      ],
      stoppedBy: 'done',
    });
    expect(requested).toEqual([
      `${site.origin}/robots.txt`,
      `${site.origin}/`,
      `${site.origin}/sitemap.xml`,
      `${site.origin}/a`,
    ]);
  });

  it('turns a refused start URL into the problem the job fails the file with, sending nothing', async () => {
    const { result, requested } = await crawlSites([site], { startUrl: 'http://10.0.0.1/docs' });
    expect(result).toEqual({
      pagesDone: 0,
      problems: [{ url: 'http://10.0.0.1/docs', reason: PRIVATE }],
      stoppedBy: 'done',
    });
    // The client was asked for robots.txt and refused it before opening a socket.
    expect(requested).toEqual(['http://10.0.0.1/robots.txt']);
    expect(site.requested).toEqual([]);
  });

  it('says a start URL that is not http(s) is not valid', async () => {
    const { result, requested } = await crawlSites([site], { startUrl: 'ftp://files.example.com/' });
    expect(result.problems).toEqual([
      { url: 'ftp://files.example.com/', reason: 'not fetched: not a valid http or https URL' },
    ]);
    expect(requested).toEqual([]);
  });
});
