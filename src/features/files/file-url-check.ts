import { AppError, validationError } from '../../errors.js';
import { OutboundError } from '../../outbound/outbound-error.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';

/**
 * A URL to add to an agent's knowledge: http(s), and one the guarded client may fetch by the
 * rules that need no DNS (a private address found by DNS is refused when the crawl fetches it,
 * and the file fails naming it). Refused: 422 `url_not_allowed`, naming the reason. Returns the
 * URL as parsed (normalised: lower-case host, default port dropped).
 */
export function checkFileUrl(outbound: OutboundClient, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw validationError(['body', 'url'], 'Input should be a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw validationError(['body', 'url'], 'URL scheme should be http or https');
  }
  try {
    outbound.checkUrl(parsed);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    throw new AppError('url_not_allowed', { message: `${new AppError('url_not_allowed').message} (${error.message})` });
  }
  return parsed.href;
}
