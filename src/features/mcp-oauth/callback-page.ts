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

/** Whether the client asked for JSON rather than a page (an API client, not a browser). */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.includes('application/json') && !accept.includes('text/html');
}
