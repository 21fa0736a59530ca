import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { createWidgetKey, startSession, userHash, visitorClient } from '../helpers/widget.js';
import { collectPageErrors, launchChromium } from './browser-harness.js';
import { ensureStudioBuilt, expectAccessible, expectNoSidewaysScroll, openPage, screenshot } from './studio-page.js';

/**
 * The studio's web threads and flows in Chromium (issue 15): a widget visitor's thread found,
 * opened and searched on the Threads page; a flow created with a variable and a schedule, run now,
 * and followed to its end. What the page shows is compared with what the server stored.
 */

const ORIGIN = 'https://shop.example';
let context: TestContext;
let api: ReturnType<typeof client>;
let key: string;
let base: string;
let browserLaunch: Promise<Browser>;
let browserContext: BrowserContext;
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
  browserLaunch = launchChromium();
  browserLaunch.catch(() => undefined);
  await ensureStudioBuilt();
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
  browserContext = await (await browserLaunch).newContext({ viewport: { width: 1280, height: 860 } });
  page = await browserContext.newPage();
  page.setDefaultTimeout(15_000);
  pageErrors = collectPageErrors(page);
}, 120_000);
afterAll(async () => {
  await browserContext?.close();
  (await browserLaunch?.catch(() => null))?.close();
  await context?.close();
});

const webList = () => page.getByRole('list', { name: 'Web threads' });
const filters = () => page.getByRole('search', { name: 'Filter web threads' });
const listedIds = () =>
  webList()
    .locator('[data-thread-id]')
    .evaluateAll((items) => items.map((item) => item.getAttribute('data-thread-id')));
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toLocaleDateString('en-CA');

describe('Parley Studio: web threads and flows, in Chromium', () => {
  it('finds a widget visitor’s thread among the web threads, opens it and searches it', async () => {
    await page.goto(`${base}/studio/threads`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Threads' }).waitFor();
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
  it('creates a flow with a variable and a schedule, and shows the server’s detail for a bad cron', async () => {
    await openPage(page, 'Flows');
    await page.getByRole('button', { name: 'New flow' }).click();
    const editor = page.getByRole('form', { name: 'New flow' });
    await editor.getByLabel('Name', { exact: true }).fill('Weather report');
    await editor.getByLabel('Instructions').fill('Write a weather report for {{city}}.');
    await editor.getByText('Not declared yet: city.').waitFor();
    await editor.getByRole('button', { name: 'Add variable' }).click();
    const variable = editor.getByRole('group', { name: 'Variable 1' });
    await variable.getByLabel('Variable name').fill('city');
    await variable.getByLabel('Required').check();
    await variable.getByLabel('Default').fill('Paris');
    await editor.getByRole('button', { name: 'Add schedule' }).click();
    const schedule = editor.getByRole('group', { name: 'Schedule 1' });
    await schedule.getByLabel('Cron').fill('not a cron');
    await schedule.getByLabel('Time zone').fill('Europe/Paris');
    await editor.getByRole('button', { name: 'Save flow' }).click();
    const refused = await api.post(`/api/v1/agents/${agentId}/flows`, {
      name: 'Weather report',
      instructions: 'x',
      schedules: [{ cron: 'not a cron', timezone: 'Europe/Paris' }],
    });
    expect(refused.status).toBe(422);
    const detail = refused.body.detail.map((issue: any) => `${issue.loc.join('.')}: ${issue.msg}`).join('; ');
    await expect.poll(() => editor.getByRole('alert').textContent()).toBe(detail);
    expect((await api.get(`/api/v1/agents/${agentId}/flows`)).body).toEqual([]);
    pageErrors.splice(0);

    await schedule.getByLabel('Cron').fill('0 7 * * 1');
    await editor.getByRole('button', { name: 'Save flow' }).click();
    const saved = page.getByRole('form', { name: 'Edit Weather report' });
    await saved.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const flows = (await api.get(`/api/v1/agents/${agentId}/flows`)).body as any[];
    expect(flows).toEqual([
      expect.objectContaining({
        agent_id: agentId,
        name: 'Weather report',
        instructions: 'Write a weather report for {{city}}.',
        variables: [{ name: 'city', type: 'string', required: true, default: 'Paris' }],
        tools: [],
        schedules: [
          {
            id: expect.any(String),
            cron: '0 7 * * 1',
            timezone: 'Europe/Paris',
            variables: {},
            next_run_at: expect.any(String),
          },
        ],
      }),
    ]);
    // Mondays at 07:00 in Paris: 05:00 or 06:00 UTC.
    const next = new Date(flows[0].schedules[0].next_run_at);
    expect([next.getUTCDay(), [5, 6].includes(next.getUTCHours()), next.getUTCMinutes()]).toEqual([1, true, 0]);
    await expect.poll(() => page.locator(`tr[data-flow-id="${flows[0].id}"]`).textContent()).toContain('0 7 * * 1');
    await expectAccessible(page);
    await screenshot(page, 'flows');
    expect(pageErrors).toEqual([]);
  });

  it('runs the flow now with its variables and follows the execution to its end', async () => {
    const flow = ((await api.get(`/api/v1/agents/${agentId}/flows`)).body as any[])[0];
    await page.locator(`tr[data-flow-id="${flow.id}"]`).getByRole('button', { name: /^Run/ }).click();
    const run = page.getByRole('region', { name: 'Run Weather report' });
    expect(await run.getByLabel('city').inputValue()).toBe('Paris');
    await run.getByLabel('city').fill('Lyon');
    await run.getByRole('button', { name: 'Run now' }).click();
    await run.locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    const executionId = await run.locator('[data-execution-id]').getAttribute('data-execution-id');
    const execution = (await api.get(`/api/v1/flows/executions/${executionId}`)).body as any;
    expect(execution).toMatchObject({
      flow_id: flow.id,
      agent_id: agentId,
      trigger_type: 'manual',
      variables: { city: 'Lyon' },
      status: 'completed',
      error_message: null,
      final_output: { text: expect.any(String) },
    });
    // The demo model repeats its task: the instructions with the variable filled in.
    expect(execution.final_output.text).toContain('You said: "Write a weather report for Lyon."');
    await expect.poll(() => run.getByRole('button', { name: 'Run now' }).isEnabled()).toBe(true);
    expect(JSON.parse((await run.locator('.json').first().textContent())!)).toEqual(execution.final_output);
    const stepTypes = await run
      .getByRole('region', { name: 'Timeline' })
      .locator('.step')
      .evaluateAll((steps) => steps.map((step) => step.getAttribute('data-step-type')));
    expect(stepTypes).toEqual(execution.steps.map((step: any) => step.step_type));
    expect(stepTypes.length).toBeGreaterThan(0);
    await expectAccessible(page);
    await screenshot(page, 'flow-run');

    await openPage(page, 'Executions');
    await page.getByLabel('Trigger').selectOption('manual');
    await expect
      .poll(() =>
        page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-execution-id'))),
      )
      .toEqual([executionId]);
    expect(pageErrors).toEqual([]);
  });

  it('fits a 390 px wide screen: the web threads and the flows pages do not scroll sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Menu' }).click();
    await openPage(page, 'Threads');
    await page.getByRole('button', { name: 'Web threads' }).click();
    await filters().waitFor();
    await expectNoSidewaysScroll(page, 'Web threads');
    await page.getByRole('button', { name: 'Menu' }).click();
    await openPage(page, 'Flows');
    await page.getByRole('button', { name: 'New flow' }).click();
    const editor = page.getByRole('form', { name: 'New flow' });
    await editor.getByRole('button', { name: 'Add variable' }).click();
    await editor.getByRole('button', { name: 'Add schedule' }).click();
    await expectNoSidewaysScroll(page, 'Flows');
    await screenshot(page, 'mobile-flows');
    expect(pageErrors).toEqual([]);
  });
});
