import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';

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

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string | null;
  /** Each node's selector path; a node in a shadow root is a list: host first, then inside. */
  nodes: unknown[];
}

/**
 * axe-core on the page as shown (open shadow roots included: axe walks them), evaluated through
 * the DevTools protocol, which the page's CSP does not govern. The violations, and the nodes of
 * each rule that passed.
 */
export async function runAxe(page: Page): Promise<{ violations: AxeFinding[]; passes: AxeFinding[] }> {
  await page.evaluate(AXE_SOURCE);
  return (await page.evaluate(`axe.run(document).then((results) => {
    const brief = (found) => found.map((rule) => ({ id: rule.id, impact: rule.impact, nodes: rule.nodes.map((node) => node.target) }));
    return { violations: brief(results.violations), passes: brief(results.passes) };
  })`)) as { violations: AxeFinding[]; passes: AxeFinding[] };
}

/** The accessible name of what has the keyboard focus inside the widget's shadow root (null: nothing there). */
export function focusedInWidget(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const active = (globalThis as any).document.querySelector('[data-parley-widget]')?.shadowRoot?.activeElement;
    if (!active) return null;
    return active.getAttribute('aria-label') ?? active.labels?.[0]?.textContent ?? active.tagName;
  });
}

/** Opens the panel and waits until the conversation is loaded. */
export async function openWidget(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Open chat' }).click();
  await page.waitForFunction(
    () => (globalThis as any).document.querySelector('[data-parley-widget]')?.getAttribute('data-state') === 'ready',
  );
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
}

/** Waits until the reply being streamed shows some text. */
export async function replyStarted(page: Page): Promise<void> {
  await page.locator('li.message.assistant[aria-busy] .text').filter({ hasText: /\S/ }).waitFor();
}

/**
 * Records, in order, every text the assistant bubbles show: the widget sets `textContent`, so
 * each change adds a new text node, whose text never changes afterwards.
 */
export async function recordAnswerTexts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = (globalThis as any).document.querySelector('[data-parley-widget]').shadowRoot;
    const texts: string[] = [];
    (globalThis as any).answerTexts = texts;
    new (globalThis as any).MutationObserver((records: any[]) => {
      for (const record of records)
        for (const node of record.addedNodes)
          if (node.nodeType === 3 && node.parentElement?.closest('li.message.assistant:not(.greeting)'))
            texts.push(node.data);
    }).observe(root, { childList: true, subtree: true });
  });
}
