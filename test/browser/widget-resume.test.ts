import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { createWidgetKey, type CreatedWidgetKey } from '../helpers/widget.js';
import { buildWidgetBundle } from '../helpers/widget-bundle.js';
import { collectPageErrors, launchChromium } from './browser-harness.js';
import {
  hostPage,
  openWidget,
  recordAnswerTexts,
  replyStarted,
  send,
  serveHostSite,
  type HostSite,
} from './widget-host.js';

/**
 * The widget's reply survives the connection (web/widget/src/resume.ts), in Chromium against a
 * real server on SQLite reached through a loopback TCP relay the test cuts: a reply cut mid-way
 * resumes from Last-Event-ID and ends exactly as stored, and a reload mid-reply follows the
 * running reply instead of showing half of it.
 */

let context: TestContext;
let admin: Api;
let agentId: string;
let widgetKey: CreatedWidgetKey;
let relay: TcpRelay;
let site: HostSite;
let browser: Browser;

/** The demo model repeats the message (up to 200 characters): a long one makes a reply of ~70 words, ~3.5 s. */
const LONG_MESSAGE =
  'Please tell me everything about the parcel I ordered last week, where it is now, when it will arrive, ' +
  'and what I can do when nobody is at home to take it in the afternoon';

beforeAll(async () => {
  const launching = launchChromium();
  launching.catch(() => undefined);
  await buildWidgetBundle();
  site = await serveHostSite();
  context = await createTestContext({ demoWordsPerSecond: 20, widget: { sessionsPerMinutePerIp: 0 } });
  const base = new URL(await context.listen());
  relay = await startTcpRelay({ hostname: base.hostname, port: Number(base.port) });
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant', configuration: { model: 'demo', tools: [] } })).id;
  widgetKey = await createWidgetKey(admin, agentId, [site.origin]);
  // The script and every API call go through the relay: cutting it cuts the widget's streams.
  const relayed = relay.url.replace('redis://', 'http://');
  site.page('/', hostPage(relayed, { 'widget-key': widgetKey.publishable_key }));
  browser = await launching;
});
afterAll(async () => {
  await browser?.close();
  await relay?.cut();
  await context?.close();
  await site?.close();
});

async function newPage(): Promise<{ page: Page; errors: string[]; visitor: BrowserContext }> {
  const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await visitor.newPage();
  page.setDefaultTimeout(20_000);
  return { page, errors: collectPageErrors(page), visitor };
}

/** The thread's stored messages once its reply has ended (the visitor's thread, read with the API key). */
async function storedMessages(page: Page): Promise<any[]> {
  const { thread_id: threadId } = await page.evaluate(
    (key) => JSON.parse((globalThis as any).localStorage.getItem(`parley-widget:${key}`)),
    widgetKey.publishable_key,
  );
  return (await admin.get(`/api/v1/chat/${agentId}/threads/${threadId}/messages`)).body as any[];
}

describe('the widget’s reply across a lost connection', () => {
  it('resumes a reply whose connection was cut mid-way: shown once, whole, as stored', async () => {
    const { page, errors, visitor } = await newPage();
    await page.goto(site.origin);
    await openWidget(page);
    await recordAnswerTexts(page);
    await send(page, LONG_MESSAGE);
    await replyStarted(page);
    await relay.cut(); // the stream drops, and reconnecting is refused until the relay is back
    await page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector('[data-parley-widget]')?.getAttribute('data-state') ===
        'reconnecting',
    );
    expect(await page.getByRole('status').textContent()).toBe('Reconnecting…');
    await relay.restore();

    const finished = page.locator('li.message.assistant[data-message-id]');
    await finished.waitFor();
    const [, reply] = await storedMessages(page);
    expect(reply).toMatchObject({ role: 'assistant', metadata: { status: 'completed' } });
    expect(await finished.getAttribute('data-message-id')).toBe(reply.id);
    expect(await finished.locator('.text').textContent()).toBe(reply.content);
    // As streamed, before the stored reply replaced it: every step a prefix of the stored text
    // (nothing twice, nothing out of order), the last one all of it (nothing missing).
    const texts = (await page.evaluate(() => (globalThis as any).answerTexts)) as string[];
    const streamed = texts.slice(0, -1);
    expect(streamed.length).toBeGreaterThan(2);
    for (const text of streamed) expect(reply.content.startsWith(text)).toBe(true);
    expect(streamed.at(-1)).toBe(reply.content);
    expect(await page.locator('[data-parley-widget]').getAttribute('data-state')).toBe('ready');
    expect(await page.getByRole('status').isHidden()).toBe(true);
    // Chromium logs each refused or cut request ("Failed to load resource"); nothing else may fail.
    expect(errors.filter((error) => !error.startsWith('console: Failed to load resource'))).toEqual([]);
    await visitor.close();
  });

  it('follows the running reply after a reload mid-reply, instead of showing half of it', async () => {
    const { page, visitor } = await newPage();
    await page.goto(site.origin);
    await openWidget(page);
    await send(page, LONG_MESSAGE);
    await replyStarted(page);
    await page.reload();
    await page.getByRole('button', { name: 'Open chat' }).click();
    // Still running: the stored history ends with the visitor's message, and the reply streams on.
    await replyStarted(page);
    const finished = page.locator('li.message.assistant[data-message-id]');
    await finished.waitFor();
    const [question, reply] = await storedMessages(page);
    expect(reply).toMatchObject({ role: 'assistant', metadata: { status: 'completed' } });
    const items = page.locator('li.message');
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).locator('.text').textContent()).toBe(question.content);
    expect(await finished.locator('.text').textContent()).toBe(reply.content);
    expect(await page.locator('li.message.failed').count()).toBe(0);
    // The reply has ended: the next reload shows the history, and follows nothing.
    expect(
      (
        await page.evaluate(
          (key) => JSON.parse((globalThis as any).localStorage.getItem(`parley-widget:${key}`)),
          widgetKey.publishable_key,
        )
      ).resume_after,
    ).toBeNull();
    await send(page, 'Thanks');
    await page.locator('li.message.assistant[data-message-id]').nth(1).waitFor();
    await visitor.close();
  });
});
