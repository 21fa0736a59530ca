import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { expect } from 'vitest';
import { STUDIO_DIR } from '../../src/features/studio/studio.routes.js';
import { collectPageErrors, launchChromium } from './browser-harness.js';

/** What the studio's browser suites check on a page: its menu, axe-core, the 390 px fit, screenshots. */

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** `npm test` builds the studio first (pretest); a direct vitest run builds it here. */
export async function ensureStudioBuilt(): Promise<void> {
  if (fs.existsSync(`${STUDIO_DIR}/index.html`)) return;
  await build({
    configFile: fileURLToPath(new URL('../../web/studio/vite.config.ts', import.meta.url)),
    logLevel: 'error',
  });
}

/**
 * Chromium, launched at once so it starts while the suite starts its server, and the studio built;
 * `open()` then gives one 1280 px page (15 s default timeout) and the errors it logs.
 */
export function launchStudioBrowser() {
  const launch = launchChromium();
  launch.catch(() => undefined);
  let browserContext: BrowserContext | undefined;
  return {
    async open(): Promise<{ page: Page; pageErrors: string[] }> {
      await ensureStudioBuilt();
      browserContext = await (await launch).newContext({ viewport: { width: 1280, height: 860 } });
      const page = await browserContext.newPage();
      page.setDefaultTimeout(15_000);
      return { page, pageErrors: collectPageErrors(page) };
    },
    async close(): Promise<void> {
      await browserContext?.close();
      (await launch.catch(() => null))?.close();
    },
  };
}

/** Signs in at `url` (a studio page) with `key` and waits for the page's heading. */
export async function signIn(page: Page, input: { url: string; key: string; heading: string }): Promise<void> {
  await page.goto(input.url);
  await page.getByLabel('API key').fill(input.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: input.heading }).waitFor();
}

/** Opens a page through the studio's menu and waits for its heading. */
export async function openPage(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Studio' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
}

/** At 390 px, opens a page through the menu button the narrow layout shows instead of the menu. */
export async function openPageOnPhone(page: Page, label: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Menu' }).click();
  await openPage(page, label);
}

/** axe-core on the page as shown: no serious or critical violation. */
export async function expectAccessible(page: Page): Promise<void> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((results) =>
    results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      nodes: violation.nodes.map((node) => node.target.join(' ')),
    })))`)) as { id: string; impact: string; nodes: string[] }[];
  expect(violations.filter((violation) => ['serious', 'critical'].includes(violation.impact))).toEqual([]);
}

/** At the page's current width nothing passes the right edge (but what a table frame scrolls). */
export async function expectNoSidewaysScroll(page: Page, label: string): Promise<void> {
  const wider = await page.evaluate(`[...document.querySelectorAll('body *')]
    .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
    .filter((element) => !element.parentElement?.closest('.table-wrap') && !element.closest('.visually-hidden'))
    .map((element) => element.tagName.toLowerCase() + '.' + element.className)`);
  expect(wider, `${label}: what passes the right edge`).toEqual([]);
  const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow, `${label} scrolls sideways`).toBeLessThanOrEqual(0);
}

/** At 390 px nothing passes the right edge; back to 1280 px after. */
export async function expectFitsPhone(page: Page, label: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await expectNoSidewaysScroll(page, label);
  } finally {
    await page.setViewportSize({ width: 1280, height: 860 });
  }
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}studio-${name}.png`, fullPage });
}

/** The checks a studio test ends a page with: axe-core, 390 px, a full-page screenshot, no console error. */
export async function checkStudioPage(input: {
  page: Page;
  pageErrors: string[];
  label: string;
  name: string;
}): Promise<void> {
  await expectAccessible(input.page);
  await expectFitsPhone(input.page, input.label);
  await screenshot(input.page, input.name, true);
  expect(input.pageErrors).toEqual([]);
}
