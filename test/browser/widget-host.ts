import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Host sites for the widget's browser suite: pages of other origins than the Parley server's
 * that embed `<script src=".../widget.js">`.
 */

export interface HostSite {
  /** `http://127.0.0.1:<port>`: the Origin its pages send. */
  origin: string;
  /** Serves `html` at `path` (and `files` beside it, e.g. a stylesheet). */
  page(path: string, html: string, contentType?: string): void;
  close(): Promise<void>;
}

/** A host site on its own loopback port: its pages are cross-origin to the Parley server. */
export async function serveHostSite(): Promise<HostSite> {
  const pages = new Map<string, { body: string; contentType: string }>();
  const server = http.createServer((request, response) => {
    const page = pages.get(new URL(request.url ?? '/', 'http://site').pathname);
    if (page === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': page.contentType, 'cache-control': 'no-store' }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    page: (path, body, contentType = 'text/html; charset=utf-8') => void pages.set(path, { body, contentType }),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** A host page embedding the widget from `base` with the given `data-*` attributes. */
export function hostPage(base: string, attributes: Record<string, string>, head = ''): string {
  const data = Object.entries(attributes)
    .map(([name, value]) => `data-${name}="${value}"`)
    .join(' ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">${head}</head>
<body><main><h1>A shop</h1><p>Some page of the host site.</p></main>
<script src="${base}/widget.js" ${data} async></script></body></html>`;
}
