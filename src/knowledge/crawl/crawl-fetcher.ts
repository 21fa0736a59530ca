import type { OutboundClient, OutboundResponse } from '../../outbound/outbound-client.js';
import { OutboundError } from '../../outbound/outbound-error.js';
import { createOriginPacing, type OriginPacing } from './origin-pacing.js';

/** A page, robots.txt or sitemap must answer in full within this; a slow site costs one page, not the job. */
export const CRAWL_REQUEST_TIMEOUT_MS = 15_000;

/** A response, or why the guarded client refused the URL or could not fetch it. */
export type FetchOutcome =
  | { readonly response: OutboundResponse; readonly error?: undefined }
  | { readonly response?: undefined; readonly error: OutboundError };

export interface CrawlFetcher {
  get(request: { url: string; accept: string; maxBytes: number; delayMs: number }): Promise<FetchOutcome>;
}

/**
 * Every request of a crawl: a GET through the one guarded client (its policy refuses private,
 * loopback and metadata addresses unless OUTBOUND_ALLOW allows them, on every redirect hop), with
 * the crawler's User-Agent, a per-request size cap and deadline, the crawl's abort signal, and
 * the origin's Crawl-delay.
 */
export function createCrawlFetcher(input: {
  outbound: OutboundClient;
  userAgent: string;
  signal: AbortSignal;
  pacing?: OriginPacing;
}): CrawlFetcher {
  const pacing = input.pacing ?? createOriginPacing();
  return {
    get: async (request) => {
      const origin = new URL(request.url).origin;
      try {
        const response = await pacing.paced({ origin, delayMs: request.delayMs, signal: input.signal }, () =>
          input.outbound.request({
            method: 'GET',
            url: request.url,
            headers: { 'user-agent': input.userAgent, accept: request.accept },
            maxResponseBytes: request.maxBytes,
            timeoutMs: CRAWL_REQUEST_TIMEOUT_MS,
            signal: input.signal,
          }),
        );
        return { response };
      } catch (error) {
        // The client rejects only with OutboundError; anything else is a defect to surface.
        if (error instanceof OutboundError) return { error };
        throw error;
      }
    },
  };
}
