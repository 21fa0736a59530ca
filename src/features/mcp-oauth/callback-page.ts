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
 * The page a browser lands on after an MCP server's sign-in: a title and one sentence, no script,
 * no external resource (the security headers' CSP applies), never a token.
 */
export function callbackPage(input: { title: string; message: string }): string {
  const title = escapeHtml(input.title);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title></head>`,
    `<body><h1>${title}</h1><p>${escapeHtml(input.message)}</p></body>`,
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
