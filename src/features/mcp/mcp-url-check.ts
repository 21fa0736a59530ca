import { AppError, validationError } from '../../errors.js';
import { OutboundError } from '../../outbound/outbound-error.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';

/**
 * An MCP server's `url` or `health_check_url` at create and update: an http(s) URL (stdio
 * servers come only from the operator's file) that the guarded client may reach by the rules
 * that need no DNS — 422 `url_not_allowed` otherwise (reliability.md T18).
 */
export function checkServerUrl(outbound: OutboundClient, url: string, field: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw validationError(['body', field], 'Input should be a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw validationError(
      ['body', field],
      'URL scheme should be http or https (stdio servers come only from MCP_SERVERS_FILE)',
    );
  }
  try {
    outbound.checkUrl(parsed);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    const message = `${new AppError('url_not_allowed').message} (${field}: ${error.message})`;
    throw new AppError('url_not_allowed', { message });
  }
}
