import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { dumpDatabase } from '../helpers/routes.js';
import { createWidgetKey, type CreatedWidgetKey } from '../helpers/widget.js';
import { collectPageErrors, launchChromium } from './browser-harness.js';
import { buildWidgetBundle } from '../helpers/widget-bundle.js';
import { focusedInWidget, hostPage, runAxe, serveHostSite, type HostSite } from './widget-host.js';

/**
 * The embeddable widget (web/widget, `GET /widget.js`) in Chromium against a real server on
 * SQLite: the demo host page on an allowed origin, a host site whose origin the key refuses, a
 * second visitor, a hostile host stylesheet, an identified user on two devices, and Stop.
 */

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const DEMO_PREFIX = "This is Parley's offline demo model, so this answer is canned.";

let context: TestContext;
let base: string;
let admin: Api;
let agentId: string;
let widgetKey: CreatedWidgetKey;
let site: HostSite;
let refusedSite: HostSite;
let browser: Browser;
/** The first visitor's conversation, for the isolation check. */
let firstThreadId: string;

beforeAll(async () => {
  const launching = launchChromium();
  launching.catch(() => undefined);
  await buildWidgetBundle();
  [site, refusedSite] = [await serveHostSite(), await serveHostSite()];
  // The demo model streams at a visible pace (a Stop button needs a reply still running); the
  // sessions limit is off: every browser context here is a new visitor from one address.
  context = await createTestContext({ demoWordsPerSecond: 40, widget: { sessionsPerMinutePerIp: 0 } });
  base = await context.listen();
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant', configuration: { model: 'demo', tools: [] } })).id;
  widgetKey = await createWidgetKey(admin, agentId, [base, site.origin]);
  browser = await launching;
});
afterAll(async () => {
  await browser?.close();
  await context?.close();
  await site?.close();
  await refusedSite?.close();
});

async function newPage(): Promise<{ page: Page; errors: string[]; visitor: BrowserContext }> {
  const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await visitor.newPage();
  page.setDefaultTimeout(10_000);
  return { page, errors: collectPageErrors(page), visitor };
}

async function openWidget(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Open chat' }).click();
  await page.getByRole('dialog', { name: 'Chat with us' }).waitFor();
  await page.waitForFunction(() =>
    (globalThis as any).document.querySelector('[data-parley-widget]')?.shadowRoot?.host.getAttribute('data-state'),
  );
}

/** Types a message as a visitor does (Enter sends) and waits for the answer to be stored. */
async function ask(page: Page, text: string): Promise<string> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  const answer = page.locator('li.message.assistant[data-message-id]').last();
  const answered = (await page.locator('li.message.assistant[data-message-id]').count()) + 1;
  await page.waitForFunction(
    (count) =>
      ((globalThis as any).document
        .querySelector('[data-parley-widget]')
        ?.shadowRoot?.querySelectorAll('li[data-message-id]').length ?? 0) >= count,
    answered,
  );
  return (await answer.getAttribute('data-message-id'))!;
}

function storedSession(page: Page): Promise<{ token: string; thread_id: string; anon_user_id: string }> {
  return page.evaluate(
    (key) => JSON.parse((globalThis as any).localStorage.getItem(`parley-widget:${key}`)),
    widgetKey.publishable_key,
  );
}

function demoUrl(query: Record<string, string> = {}): string {
  return `${base}/widget/demo?${new URLSearchParams({ key: widgetKey.publishable_key, ...query })}`;
}

describe('the widget on the demo host page', () => {
  it('opens, streams the demo answer, stores a thumbs-up, and shows it all again after a reload', async () => {
    const { page, errors, visitor } = await newPage();
    await page.goto(demoUrl());
    await openWidget(page);
    await expect(page.locator('li.message.greeting').textContent()).resolves.toContain('Hello! How can we help?');
    const messageId = await ask(page, 'Where is my parcel?');
    const session = await storedSession(page);
    firstThreadId = session.thread_id;
    const answer = page.locator(`li[data-message-id="${messageId}"] .text`);
    expect(await answer.textContent()).toMatch(
      new RegExp(`^${DEMO_PREFIX.replaceAll('.', '\\.')} You said: "Where is my parcel\\?"`),
    );

    await page.getByRole('button', { name: 'Helpful answer', exact: true }).click();
    await expect
      .poll(async () => (await admin.get(`/api/v1/feedback?agent_id=${agentId}`)).body.feedback)
      .toMatchObject([{ ai_message_id: messageId, feedback_type: 'positive', source: 'widget' }]);
    await page.screenshot({ path: `${SCREENSHOTS}widget-demo.png` });

    await page.reload();
    await openWidget(page);
    const items = page.locator('li.message');
    await expect.poll(() => items.count()).toBe(2);
    expect(await items.nth(0).locator('.text').textContent()).toBe('Where is my parcel?');
    expect(await items.nth(1).getAttribute('data-message-id')).toBe(messageId);
    expect(await page.getByRole('button', { name: 'Helpful answer', exact: true }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    // Same visitor, same thread: the token in localStorage was reused (or renewed), not replaced.
    expect((await storedSession(page)).anon_user_id).toBe(session.anon_user_id);
    await page.screenshot({ path: `${SCREENSHOTS}widget-history.png` });
    expect(errors).toEqual([]);
    await visitor.close();
  });

  it('works from the keyboard, and axe-core finds no serious violation with the panel open', async () => {
    const { page, visitor } = await newPage();
    await page.goto(demoUrl());
    await page.getByRole('button', { name: 'Open chat' }).waitFor(); // the script is `async`
    // Tab reaches the launcher: after what the page itself has that takes focus (its code sample).
    const path: string[] = [];
    while (path.length < 5 && (await focusedInWidget(page)) === null) {
      await page.keyboard.press('Tab');
      path.push(await page.evaluate(() => (globalThis as any).document.activeElement?.tagName ?? ''));
    }
    expect(path).toEqual(['PRE', 'DIV']);
    expect(await focusedInWidget(page)).toBe('Open chat');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Chat with us' }).waitFor();
    expect(await focusedInWidget(page)).toBe('Message'); // the input, by its label
    await ask(page, 'Hello');
    const { violations, passes } = await runAxe(page);
    expect(violations.filter((found) => found.impact === 'serious' || found.impact === 'critical')).toEqual([]);
    // axe looked inside the shadow root: the input's label rule passed on the textarea in it.
    const label = passes.find((found) => found.id === 'label');
    expect(label?.nodes).toContainEqual([['div[data-parley-widget=""]', '#parley-input']]);
    await page.keyboard.press('Escape');
    expect(await page.getByRole('dialog', { name: 'Chat with us' }).isHidden()).toBe(true);
    expect(await focusedInWidget(page)).toBe('Open chat');
    expect(await page.getByRole('button', { name: 'Open chat' }).getAttribute('aria-expanded')).toBe('false');
    await visitor.close();
  });

  it('keeps a second visitor (a fresh browser) out of the first visitor’s thread', async () => {
    const { page, visitor } = await newPage();
    await page.goto(demoUrl());
    await openWidget(page);
    // The greeting is rendered after the panel opens (read before it, the count was 0 once).
    await page.locator('li.message').first().waitFor();
    expect(await page.locator('li.message').count()).toBe(1); // the greeting only
    const second = await storedSession(page);
    const headers = { authorization: `Bearer ${second.token}`, origin: base };
    const thread = await fetch(`${base}/api/v1/chat/${agentId}/threads/${firstThreadId}`, { headers });
    expect(thread.status).toBe(404);
    expect(((await thread.json()) as any).code).toBe('thread_not_found');
    const messages = await fetch(`${base}/api/v1/chat/${agentId}/threads/${firstThreadId}/messages`, { headers });
    expect(messages.status).toBe(404);
    expect(await (await fetch(`${base}/api/v1/chat/${agentId}/threads`, { headers })).json()).toEqual([]);
    await visitor.close();
  });

  it('stops showing a reply with Stop, and takes the next message', async () => {
    const { page, visitor } = await newPage();
    await page.goto(demoUrl({ title: 'Support', color: '#15803d' }));
    await page.getByRole('button', { name: 'Open chat' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Tell me a long story');
    await page.getByRole('button', { name: 'Send' }).click();
    const stop = page.getByRole('button', { name: 'Stop the reply' });
    await stop.waitFor();
    await page.waitForFunction(
      () =>
        ((globalThis as any).document
          .querySelector('[data-parley-widget]')
          ?.shadowRoot?.querySelector('li.message.assistant[aria-busy] .text')?.textContent ?? '') !== '',
    );
    await stop.click();
    // The server cancelled the run: its stream ended with the reply as far as it got, stored as cancelled.
    const stopped = page.locator('li.message.assistant.stopped');
    await stopped.waitFor();
    expect(await stopped.locator('.note').textContent()).toBe('Stopped.');
    const partial = (await stopped.locator('.text').textContent())!;
    expect(partial.length).toBeGreaterThan(0);
    expect(DEMO_PREFIX.startsWith(partial.trimEnd()) || partial.startsWith(DEMO_PREFIX)).toBe(true);
    expect(partial).not.toContain('real model such as');
    const { token, thread_id: threadId } = await storedSession(page);
    const stored = await fetch(`${base}/api/v1/chat/${agentId}/threads/${threadId}/messages`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const answerMessage = ((await stored.json()) as any[]).find((message) => message.role === 'assistant');
    expect(answerMessage).toMatchObject({ content: partial, metadata: { status: 'cancelled' } });
    expect(await page.getByRole('button', { name: 'Send' }).isVisible()).toBe(true);
    await ask(page, 'Hello again');
    expect(await page.getByRole('dialog', { name: 'Support' }).isVisible()).toBe(true);
    await visitor.close();
  });
});

describe('the widget on other host sites', () => {
  it('tells a page on an origin the key refuses that it is refused, and creates nothing', async () => {
    refusedSite.page('/', hostPage(base, { 'widget-key': widgetKey.publishable_key }));
    const before = await dumpDatabase(context);
    const { page, visitor } = await newPage();
    await page.goto(refusedSite.origin);
    await openWidget(page);
    expect(await page.locator('[data-parley-widget]').getAttribute('data-state')).toBe('refused');
    expect(await page.getByRole('status').textContent()).toBe(
      'This chat is not available on this site: its origin is not allowed.',
    );
    expect(await page.getByRole('textbox', { name: 'Message' }).isDisabled()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}widget-refused.png` });
    expect(await dumpDatabase(context)).toEqual(before);
    await visitor.close();
  });

  it('keeps its layout under a host stylesheet of `* { all: unset }` and huge fonts', async () => {
    site.page(
      '/hostile.css',
      '* { all: unset !important; } html { font-size: 64px !important; } body { font-size: 72px; color: red; }',
      'text/css',
    );
    site.page(
      '/hostile',
      hostPage(base, { 'widget-key': widgetKey.publishable_key }, '<link rel="stylesheet" href="/hostile.css">'),
    );
    const { page, visitor } = await newPage();
    await page.goto(`${site.origin}/hostile`);
    await openWidget(page);
    await ask(page, 'Does this look right?');
    const panel = (await page.getByRole('dialog', { name: 'Chat with us' }).boundingBox())!;
    expect(panel).toMatchObject({ width: 360, height: 520 });
    expect(panel.x + panel.width).toBe(1280 - 20);
    expect(panel.y + panel.height).toBe(800 - 20 - 72);
    const launcher = (await page.locator('button.launcher').boundingBox())!;
    expect([launcher.width, launcher.height]).toEqual([56, 56]);
    const style = await page.locator('li.message.user .text').evaluate((node) => {
      const computed = (globalThis as any).getComputedStyle(node);
      return { fontSize: computed.fontSize, color: computed.color };
    });
    expect(style).toEqual({ fontSize: '14px', color: 'rgb(255, 255, 255)' });
    await page.screenshot({ path: `${SCREENSHOTS}widget-hostile-css.png` });
    await visitor.close();
  });

  it('identifies a signed-in host user, whose conversation follows them to another device', async () => {
    const userHash = createHmac('sha256', widgetKey.identity_secret).update('customer-42').digest('hex');
    const user = { 'widget-key': widgetKey.publishable_key, 'user-id': 'customer-42', 'user-hash': userHash };
    site.page('/account', hostPage(base, { ...user, 'user-name': 'Ada', position: 'left' }));
    const laptop = await newPage();
    await laptop.page.goto(`${site.origin}/account`);
    await openWidget(laptop.page);
    const messageId = await ask(laptop.page, 'Hello from my laptop');
    const threadId = (await storedSession(laptop.page)).thread_id;
    const threads = await admin.get(`/api/v1/chat/${agentId}/web-threads/enhanced`);
    const thread = threads.body.find((candidate: any) => candidate.id === threadId);
    expect(thread.widget_user).toMatchObject({ user_name: 'Ada', verified: true });
    await laptop.visitor.close();

    const phone = await newPage();
    await phone.page.goto(`${site.origin}/account`);
    await openWidget(phone.page);
    await expect.poll(() => phone.page.locator('li.message').count()).toBe(2);
    expect(await phone.page.locator('li.message.assistant').getAttribute('data-message-id')).toBe(messageId);
    await phone.visitor.close();
  });
});
