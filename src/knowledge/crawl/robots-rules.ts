import robotsParserModule from 'robots-parser';
import { CRAWL_REASONS, outboundDetail, outboundReason } from './crawl-reasons.js';
import { CRAWL_REQUEST_TIMEOUT_MS, type CrawlFetcher } from './crawl-fetcher.js';

// robots-parser 3.0.1 types a CommonJS `module.exports = function` as `export default`: under
// NodeNext TypeScript places the function at `.default`, while Node's import hands over the function.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;

/** The product token robots.txt groups are matched against (`User-agent: Parley`), RFC 9309 §2.2.1. */
export const ROBOTS_USER_AGENT = 'Parley';

/** RFC 9309 §2.5: crawlers must parse at least 500 KiB of a robots.txt. */
const ROBOTS_MAX_BYTES = 512 * 1024;

/** The longest Crawl-delay honoured; a site asking for more still gets pages this far apart. */
export const MAX_CRAWL_DELAY_MS = 5_000;

/** What one origin's robots.txt says, fetched once per crawl. */
export interface OriginRobots {
  /** Null when the crawler may fetch `url`; otherwise the problem's reason. */
  refusal(url: string): string | null;
  /** Milliseconds between two requests to the origin (its Crawl-delay, capped). */
  readonly delayMs: number;
  /** `Sitemap:` lines, as written. */
  readonly sitemaps: readonly string[];
}

export interface RobotsCache {
  forUrl(url: string): Promise<OriginRobots>;
}

export function createRobotsCache(fetcher: CrawlFetcher): RobotsCache {
  const byOrigin = new Map<string, OriginRobots>();
  return {
    async forUrl(url) {
      const origin = new URL(url).origin;
      const known = byOrigin.get(origin);
      if (known) return known;
      const robots = await fetchRobots(fetcher, origin);
      byOrigin.set(origin, robots);
      return robots;
    },
  };
}

async function fetchRobots(fetcher: CrawlFetcher, origin: string): Promise<OriginRobots> {
  const robotsUrl = `${origin}/robots.txt`;
  const { response, error } = await fetcher.get({
    url: robotsUrl,
    accept: 'text/plain',
    maxBytes: ROBOTS_MAX_BYTES,
    delayMs: 0,
  });
  if (error) {
    const limits = { maxBytes: ROBOTS_MAX_BYTES, timeoutMs: CRAWL_REQUEST_TIMEOUT_MS };
    // A refusal of robots.txt is a refusal of the whole origin: say so in the page's own words.
    return closed(
      error.blocked
        ? outboundReason(error.reason, limits)
        : CRAWL_REASONS.robotsUnavailable(`could not be fetched (${outboundDetail(error.reason, limits)})`),
    );
  }
  const { status } = response;
  if (status >= 200 && status < 300) return parsed(robotsUrl, new TextDecoder().decode(response.body));
  // RFC 9309 §2.3.1.3: "unavailable" (4xx) allows everything. 429 is the site asking for less
  // traffic, so it counts with the server errors of §2.3.1.4, which mean "disallow everything".
  if (status >= 400 && status < 500 && status !== 429) return OPEN;
  return closed(CRAWL_REASONS.robotsUnavailable(`answered HTTP ${status}`));
}

function parsed(robotsUrl: string, text: string): OriginRobots {
  const robot = robotsParser(robotsUrl, text);
  const delaySeconds = robot.getCrawlDelay(ROBOTS_USER_AGENT) ?? 0;
  return {
    // isAllowed is undefined only for a URL of another origin, which forUrl never pairs with it.
    refusal: (url) => (robot.isAllowed(url, ROBOTS_USER_AGENT) === false ? CRAWL_REASONS.disallowedByRobots : null),
    delayMs: Number.isFinite(delaySeconds) ? Math.min(Math.max(delaySeconds, 0) * 1000, MAX_CRAWL_DELAY_MS) : 0,
    sitemaps: robot.getSitemaps(),
  };
}

const OPEN: OriginRobots = Object.freeze({ refusal: () => null, delayMs: 0, sitemaps: [] });

function closed(reason: string): OriginRobots {
  return { refusal: () => reason, delayMs: 0, sitemaps: [] };
}
