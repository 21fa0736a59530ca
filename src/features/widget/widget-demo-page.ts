/**
 * `GET /widget/demo`: a host page for trying the widget. The query names the publishable key
 * (`?key=`, else `WIDGET_DEMO_KEY`) and may set the script's other attributes; every value is
 * written into an HTML attribute escaped, so nothing in the URL becomes markup or script.
 */

/** Query parameter → the `data-*` attribute of the script tag it sets. */
const ATTRIBUTES: Record<string, string> = {
  color: 'data-color',
  position: 'data-position',
  title: 'data-title',
  greeting: 'data-greeting',
  user_id: 'data-user-id',
  user_hash: 'data-user-hash',
  user_name: 'data-user-name',
  user_email: 'data-user-email',
  open: 'data-open',
};

/** The page loads only this server's script and calls only this server's API. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const MAX_VALUE_LENGTH = 512;

export function demoPage(input: { query: Record<string, unknown>; demoKey: string | undefined }): {
  html: string;
  contentSecurityPolicy: string;
} {
  const key = text(input.query.key) ?? input.demoKey;
  const attributes = [`data-widget-key="${escapeHtml(key ?? '')}"`];
  for (const [name, attribute] of Object.entries(ATTRIBUTES)) {
    const value = text(input.query[name]);
    if (value !== undefined) attributes.push(`${attribute}="${escapeHtml(value)}"`);
  }
  const body =
    key === undefined
      ? `<p class="note">No widget key: open <code>/widget/demo?key=pwk_…</code> with a publishable key whose
  <code>allowed_origins</code> include this server's origin, or set <code>WIDGET_DEMO_KEY</code>.</p>`
      : `<p>This page stands for any site that embeds the widget with one tag:</p>
  <pre>&lt;script src="/widget.js" data-widget-key="pwk_…" async&gt;&lt;/script&gt;</pre>
  <p>The chat button is in the corner.</p>
  <script src="/widget.js" ${attributes.join(' ')} async></script>`;
  return { html: page(body), contentSecurityPolicy: CONTENT_SECURITY_POLICY };
}

function page(body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <title>Parley chat widget demo</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }
    pre, code { background: #f3f4f6; border-radius: 4px; padding: 0.1rem 0.3rem; }
    pre { padding: 0.75rem; overflow-x: auto; }
    .note { border-left: 4px solid #d97706; padding-left: 0.75rem; }
  </style>
</head>
<body>
  <h1>Parley chat widget demo</h1>
  ${body}
</body>
</html>
`;
}

/** A single string parameter, bounded; a repeated or empty one is ignored. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return value.slice(0, MAX_VALUE_LENGTH);
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}
