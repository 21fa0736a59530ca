import { describe, expect, it } from 'vitest';
import type { CrawlFetcher, FetchOutcome } from '../../src/knowledge/crawl/crawl-fetcher.js';
import { readHtmlPage } from '../../src/knowledge/crawl/html-page.js';
import { createOriginPacing } from '../../src/knowledge/crawl/origin-pacing.js';
import { createRobotsCache } from '../../src/knowledge/crawl/robots-rules.js';
import { isOnSite, normalizeCrawlUrl, siteOf } from '../../src/knowledge/crawl/site-scope.js';
import { OutboundError } from '../../src/outbound/outbound-error.js';

/** The crawler's parts on their own: URL spelling, site scope, robots.txt outcomes, pacing, page reading. */
describe('normalizeCrawlUrl and the site', () => {
  it.each([
    ['HTTP://Example.COM:80/a/../b?x=1#top', undefined, 'http://example.com/b?x=1'],
    ['https://example.com:443', undefined, 'https://example.com/'],
    ['guide?', 'https://example.com/docs/', 'https://example.com/docs/guide'],
    ['//cdn.example.com/x', 'https://example.com/', 'https://cdn.example.com/x'],
    ['?b=2&a=1', 'https://example.com/p', 'https://example.com/p?b=2&a=1'],
    ['mailto:someone@example.com', undefined, null],
    ['javascript:alert(1)', 'https://example.com/', null],
    ['ftp://example.com/file', undefined, null],
    ['http://[not a host', undefined, null],
  ])('normalises %s (base %s) to %s', (href, base, expected) => {
    expect(normalizeCrawlUrl(href, base)).toBe(expected);
  });

  it('puts www., http and https, and default ports in one site; other hosts and ports in others', () => {
    const site = siteOf('https://www.example.com/start');
    expect(site).toBe('example.com:');
    for (const url of ['http://example.com/a', 'https://www.example.com:443/b', 'http://www.example.com/']) {
      expect(isOnSite(url, site)).toBe(true);
    }
    for (const url of [
      'https://docs.example.com/',
      'https://example.com:8443/',
      'https://example.org/',
      'https://wwwexample.com/',
    ]) {
      expect(isOnSite(url, site)).toBe(false);
    }
  });
});

function answering(outcomes: Record<string, FetchOutcome>): CrawlFetcher & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get: async ({ url }) => {
      asked.push(url);
      const outcome = outcomes[url];
      if (!outcome) throw new Error(`unexpected request for ${url}`);
      return outcome;
    },
  };
}

function answer(status: number, body = ''): FetchOutcome {
  return {
    response: { status, headers: {}, body: Buffer.from(body), url: 'https://example.com/robots.txt', redirects: 0 },
  };
}

describe('robots.txt outcomes', () => {
  const closedBy = (detail: string) =>
    `not fetched: robots.txt ${detail}, so the site is treated as closed to crawlers (RFC 9309)`;

  it.each([
    ['404 allows everything', answer(404), null],
    ['410 allows everything', answer(410), null],
    ['429 disallows everything', answer(429), closedBy('answered HTTP 429')],
    ['500 disallows everything', answer(500), closedBy('answered HTTP 500')],
    [
      'an unreachable server disallows everything',
      { error: new OutboundError('connect') },
      closedBy('could not be fetched (the server could not be reached)'),
    ],
    [
      'a refused address is the page refused',
      { error: new OutboundError('address') },
      'not fetched: the address is private (refused by the outbound policy)',
    ],
    ['Disallow for all robots', answer(200, 'User-agent: *\nDisallow: /page\n'), 'disallowed by robots.txt'],
    ['a Disallow for another robot only', answer(200, 'User-agent: OtherBot\nDisallow: /\n'), null],
  ])('%s', async (_label, outcome, refusal) => {
    const robots = await createRobotsCache(answering({ 'https://example.com/robots.txt': outcome })).forUrl(
      'https://example.com/page',
    );
    expect(robots.refusal('https://example.com/page')).toBe(refusal);
  });

  it('is fetched once per origin and reads Crawl-delay (capped at 5 s) and Sitemap lines', async () => {
    const fetcher = answering({
      'https://example.com/robots.txt': answer(
        200,
        'User-agent: Parley\nCrawl-delay: 2.5\nSitemap: https://example.com/s.xml\n',
      ),
      'https://www.example.com/robots.txt': answer(200, 'User-agent: *\nCrawl-delay: 3600\n'),
    });
    const cache = createRobotsCache(fetcher);
    const plain = await cache.forUrl('https://example.com/a');
    await cache.forUrl('https://example.com/b');
    const www = await cache.forUrl('https://www.example.com/c');
    expect([plain.delayMs, plain.sitemaps, www.delayMs]).toEqual([2500, ['https://example.com/s.xml'], 5000]);
    expect(fetcher.asked).toEqual(['https://example.com/robots.txt', 'https://www.example.com/robots.txt']);
  });
});

describe('origin pacing', () => {
  it('waits out the delay since the last request to the same origin ended, and not across origins', async () => {
    let now = 1000;
    const slept: number[] = [];
    const pacing = createOriginPacing({
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    });
    const signal = new AbortController().signal;
    const request = (origin: string, takes: number) =>
      pacing.paced({ origin, delayMs: 500, signal }, async () => {
        now += takes;
      });
    await request('https://a.example', 100); // ends at 1100
    await request('https://b.example', 100); // another origin: no wait; ends at 1200
    now += 200;
    await request('https://a.example', 100); // at 1400, 300 ms after a's last ended: waits 200
    await request('https://a.example', 100); // right after: waits the whole 500
    expect(slept).toEqual([200, 500]);
  });
});

describe('readHtmlPage', () => {
  it('decodes with the meta charset and resolves links against <base>', () => {
    const html =
      '<html><head><meta charset="windows-1252"><base href="/docs/"><title>Caf\xe9</title></head><body><a href="guide#x">g</a><a href="/about" rel="nofollow">a</a></body></html>';
    const page = readHtmlPage({
      body: Buffer.from(html, 'latin1'),
      contentType: 'text/html',
      url: 'https://example.com/index',
    });
    expect(page).toEqual({
      title: 'Café',
      links: ['https://example.com/docs/guide'],
      noindex: false,
      nofollow: false,
      javaScriptShell: false,
    });
  });

  it('prefers the Content-Type charset and reads meta robots none as noindex and nofollow', () => {
    const html = '<meta name="robots" content="none"><title>\xc0 propos</title>';
    const page = readHtmlPage({
      body: Buffer.from(html, 'latin1'),
      contentType: 'text/html; charset="ISO-8859-1"',
      url: 'https://example.com/',
    });
    expect([page.title, page.noindex, page.nofollow]).toEqual(['À propos', true, true]);
  });
});
