import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { createWidgetKey, startSession, userHash, visitorClient } from '../helpers/widget.js';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  launchStudioBrowser,
  openPageOnPhone,
  screenshot,
  signIn,
} from './studio-page.js';

/**
 * The studio's web threads in Chromium (issue 15): a widget visitor's thread found, opened,
 * searched and deleted on the Threads page (the flows are studio-flows.test.ts). What the page
 * shows is compared with what the server stored.
 */

const ORIGIN = 'https://shop.example';
let context: TestContext;
let api: ReturnType<typeof client>;
let key: string;
let base: string;
let browser: ReturnType<typeof launchStudioBrowser>;
let page: Page;
let pageErrors: string[] = [];
let agentId: string;
let webThread: { id: string; question: string };

/** A visitor of the agent's widget opens a thread, asks one question, and says who they are. */
async function visitorAsks(question: string): Promise<{ id: string; question: string }> {
  const widgetKey = await createWidgetKey(api, agentId, [ORIGIN]);
  const session = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: ORIGIN });
  const visitor = visitorClient(context, session.token, ORIGIN);
  const thread = await visitor.post(`/api/v1/chat/${agentId}/threads`, { title: 'Late parcel' });
  expect(thread.status, thread.raw).toBe(200);
  const asked = await visitor.post(`/api/v1/chat/${agentId}/threads/${thread.body.id}/messages`, {
    role: 'user',
    content: question,
  });
  expect(asked.status, asked.raw).toBe(200);
  const identified = await visitor.post('/api/v1/widget/identify', {
    user_id: 'customer-7',
    user_hash: userHash(widgetKey.identity_secret, 'customer-7'),
    name: 'Grace',
    email: 'grace@shop.example',
  });
  expect(identified.status, identified.raw).toBe(200);
  return { id: thread.body.id as string, question };
}

beforeAll(async () => {
  browser = launchStudioBrowser();
  context = await createTestContext({ jobs: { pollMs: 50 } });
  base = await context.listen();
  const org = await context.newOrganization();
  key = org.key;
  api = client(context, key);
  agentId = (await api.createAgent({ name: 'Shop assistant', configuration: { model: 'demo', tools: [] } })).id;
  webThread = await visitorAsks('Where is my parcel? It is late.');
  // An API user's thread of the same agent: listed among all threads, never among the web ones.
  const own = await api.post(`/api/v1/chat/${agentId}/threads`, { title: 'Invoice question' });
  expect(own.status, own.raw).toBe(200);
  ({ page, pageErrors } = await browser.open());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await context?.close();
});

const webList = () => page.getByRole('list', { name: 'Web threads' });
const filters = () => page.getByRole('search', { name: 'Filter web threads' });
const listedIds = () =>
  webList()
    .locator('[data-thread-id]')
    .evaluateAll((items) => items.map((item) => item.getAttribute('data-thread-id')));
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toLocaleDateString('en-CA');

describe('Parley Studio: web threads, in Chromium', () => {
  it('finds a widget visitor’s thread among the web threads, opens it and searches it', async () => {
    await signIn(page, { url: `${base}/studio/threads`, key, heading: 'Threads' });
    // All threads: the API user's and the visitor's alike, newest first.
    const all = page.getByRole('list', { name: 'Threads' }).getByRole('button');
    await expect.poll(() => all.locator('strong').allTextContents()).toEqual(['Invoice question', 'Late parcel']);
    await page.getByRole('button', { name: 'Web threads' }).click();
    await expect.poll(listedIds).toEqual([webThread.id]);
    const item = webList().locator(`[data-thread-id="${webThread.id}"]`);
    expect(await item.locator('.visitor').textContent()).toBe('Grace');
    expect(await item.textContent()).toContain('2 messages');

    await item.click();
    const view = page.getByRole('article', { name: 'Thread' });
    const stored = (await api.get(`/api/v1/chat/${agentId}/threads/${webThread.id}/messages`)).body as any[];
    expect(stored.map((message) => message.role)).toEqual(['user', 'assistant']);
    await expect
      .poll(() => view.locator('.message .text').allTextContents())
      .toEqual(stored.map((message) => message.content));

    await filters().getByLabel('Search web threads').fill('parcel');
    await filters().getByRole('button', { name: 'Apply' }).click();
    await expect.poll(listedIds).toEqual([webThread.id]);
    await filters().getByLabel('Search web threads').fill('invoice');
    await filters().getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => webList().textContent()).toBe('No web threads.');
    // Created today: a range ending yesterday leaves it out, one starting today keeps it.
    await filters().getByLabel('Search web threads').fill('');
    await filters().getByLabel('To', { exact: true }).fill(day(-1));
    await filters().getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => webList().textContent()).toBe('No web threads.');
    await filters().getByLabel('To', { exact: true }).fill('');
    await filters().getByLabel('From', { exact: true }).fill(day(0));
    await filters().getByRole('button', { name: 'Apply' }).click();
    await expect.poll(listedIds).toEqual([webThread.id]);
    await webList().locator(`[data-thread-id="${webThread.id}"]`).click();
    await view.locator('.message.user').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'web-threads');
    expect(pageErrors).toEqual([]);
  });

  it('shows the server’s detail when a search is refused, and deletes a web thread', async () => {
    await filters().getByLabel('Search web threads').fill('!!!');
    await filters().getByRole('button', { name: 'Apply' }).click();
    const refused = await api.get(`/api/v1/chat/${agentId}/web-threads/search?q=${encodeURIComponent('!!!')}`);
    expect(refused.status).toBe(422);
    const detail = refused.body.detail.map((issue: any) => `${issue.loc.join('.')}: ${issue.msg}`).join('; ');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe(detail);
    // The refused call is a 422 the browser logs: expected here, nowhere else.
    pageErrors.splice(0);

    await filters().getByLabel('Search web threads').fill('');
    await filters().getByRole('button', { name: 'Apply' }).click();
    await webList().locator(`[data-thread-id="${webThread.id}"]`).click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('article', { name: 'Thread' }).getByRole('button', { name: 'Delete thread' }).click();
    await expect.poll(() => webList().textContent()).toBe('No web threads.');
    expect((await api.get(`/api/v1/chat/${agentId}/threads/${webThread.id}`)).status).toBe(404);
    expect(pageErrors).toEqual([]);
  });
  it('fits a 390 px wide screen: the web threads page does not scroll sideways', async () => {
    await openPageOnPhone(page, 'Threads');
    await page.getByRole('button', { name: 'Web threads' }).click();
    await filters().waitFor();
    await expectNoSidewaysScroll(page, 'Web threads');
    expect(pageErrors).toEqual([]);
  });
});
