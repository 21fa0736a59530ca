import { CALLBACK_PATH } from '../../mcp/oauth/oauth-urls.js';

/** The escaped text of a small HTML page: nothing from the query is ever markup. */
function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * The page a browser lands on after an MCP server's sign-in failed: a title, one sentence and a
 * link back to the studio; no script, no external resource (the security headers' CSP applies),
 * never a token.
 */
export function callbackPage(input: { title: string; message: string; back: string }): string {
  const title = escapeHtml(input.title);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title></head>`,
    `<body><h1>${title}</h1><p>${escapeHtml(input.message)}</p>`,
    `<p><a href="${escapeHtml(input.back)}">Back to Parley Studio</a></p></body>`,
    '</html>',
    '',
  ].join('\n');
}

/**
 * Whether the client asked for a page: browsers send `text/html` in Accept on a navigation; every
 * other client gets the API's JSON (and its error envelope).
 */
export function wantsPage(accept: string | undefined): boolean {
  return accept !== undefined && accept.toLowerCase().includes('text/html');
}

/**
 * The studio's MCP page beside the callback (same PUBLIC_URL, so a path prefix is kept), with
 * the outcome in its query: ids and a word, never a code, token or state.
 */
export function studioReturnUrl(redirectUri: string, outcome: Record<string, string>): string {
  const url = new URL(redirectUri);
  const prefix = url.pathname.endsWith(CALLBACK_PATH) ? url.pathname.slice(0, -CALLBACK_PATH.length) : '';
  url.pathname = `${prefix}/studio/mcp`;
  url.search = new URLSearchParams(outcome).toString();
  return url.toString();
}
