import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import { pollUntil } from '../helpers/sse-client.js';
import {
  expectAccessible as expectPageAccessible,
  expectNoSidewaysScroll,
  launchStudioBrowser,
  openPage as openStudioPage,
  screenshot as pageScreenshot,
} from './studio-page.js';

/**
 * Parley Studio in Debian's Chromium (issue 15): the production build served by the server at
 * /studio, on SQLite, driven like a person would. Each check compares what the page shows with
 * what the server stored; no page may log an error; axe-core finds no serious or critical
 * violation; the screenshots of docs/screenshots/studio-*.png are taken here.
 */

let context: TestContext;
let org: TestOrganization;
let api: ReturnType<typeof client>;
let base: string;
let fixture: http.Server;
const fixtureCalls: unknown[] = [];
let browser: ReturnType<typeof launchStudioBrowser>;
let page: Page;
let pageErrors: string[] = [];

/** A loopback endpoint for the agent's `calculator` external tool (approval required). */
async function startFixture(): Promise<number> {
  fixture = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      fixtureCalls.push(JSON.parse(body || '{}'));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 42 }));
    });
  });
  await new Promise<void>((resolve) => fixture.listen(0, '127.0.0.1', resolve));
  return (fixture.address() as AddressInfo).port;
}

beforeAll(async () => {
  browser = launchStudioBrowser();
  const port = await startFixture();
  context = await createTestContext({
    outboundAllow: `127.0.0.1:${port}`,
    demoWordsPerSecond: 25,
    jobs: { pollMs: 50 },
  });
  base = await context.listen();
  org = await context.newOrganization();
  api = client(context, org.key);
  ({ page, pageErrors } = await browser.open());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => fixture?.close(resolve));
  await context?.close();
});

const openPage = (label: string) => openStudioPage(page, label);
const expectAccessible = () => expectPageAccessible(page);
const screenshot = (name: string) => pageScreenshot(page, name);

/** The stored messages of the agent's only thread, once its last run has ended. */
async function storedReply(agentId: string, threadId: string): Promise<any[]> {
  return pollUntil(
    async () => {
      const messages = (await api.get(`/api/v1/chat/${agentId}/threads/${threadId}/messages`)).body as any[];
      const last = messages.at(-1);
      return last?.role === 'assistant' && last.metadata.status === 'completed' ? messages : undefined;
    },
    { what: 'the reply to be stored' },
  );
}

/** Records every text the last assistant message showed, as the DOM changed. */
const TEXT_PROBE = `(() => {
  window.replyTexts = [];
  const record = () => {
    const texts = [...document.querySelectorAll('.message.assistant .text')];
    const text = texts.at(-1)?.textContent ?? null;
    if (text !== null && window.replyTexts.at(-1) !== text) window.replyTexts.push(text);
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
})()`;

async function send(text: string): Promise<void> {
  await page.evaluate(TEXT_PROBE);
  await page.getByPlaceholder('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** GET with the path exactly as given, on the server's port. */
function rawGet(pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port: new URL(base).port, path: pathname }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

async function agentIdOf(name: string): Promise<string> {
  return ((await api.get('/api/v1/agents')).body as any[]).find((agent) => agent.name === name).id;
}

const threadIdShown = async () => (await page.locator('.status').textContent())!.replace('Thread ', '').trim();

describe('Parley Studio, in Chromium', () => {
  let agentId: string;
  let threadId: string;

  it('refuses a wrong key with the server’s detail, then signs in with the key kept in sessionStorage only', async () => {
    await page.goto(`${base}/studio/`);
    await page.getByLabel('API key').fill('pk_not_a_real_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/key/i);
    // The refused call is a 401 the browser logs: expected here, nowhere else.
    pageErrors.splice(0);
    await expectAccessible();
    await screenshot('sign-in');

    await page.getByLabel('API key').fill(org.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
    expect(await page.evaluate(`sessionStorage.getItem('parley-studio-api-key')`)).toBe(org.key);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(page.url()).not.toContain(org.key);
    expect(pageErrors).toEqual([]);
  });

  it('creates an agent from a template and edits its configuration', async () => {
    const form = page.getByRole('form', { name: 'Create an agent' });
    await form.getByLabel('Name').fill('Studio support');
    await form.getByLabel('Template').selectOption({ label: 'Support agent' });
    await form.getByRole('button', { name: 'Create agent' }).click();
    const editor = page.getByRole('form', { name: 'Configuration of Studio support' });
    await editor.waitFor();
    const agents = (await api.get('/api/v1/agents')).body as any[];
    const created = agents.find((agent) => agent.name === 'Studio support');
    expect(created.configuration).toMatchObject({ model: 'demo', tools: ['current_time', 'calculator'] });
    agentId = created.id;

    // The model picker offers the server's catalogue (GET /api/v1/models).
    await expect
      .poll(() =>
        editor
          .locator('#studio-models option')
          .evaluateAll((options) => options.map((option) => option.getAttribute('value'))),
      )
      .toEqual(expect.arrayContaining(['demo', 'openai:gpt-4.1-nano', 'anthropic:claude-haiku-4-5']));
    await editor.getByText('Configured providers: demo, ollama:<model>').waitFor();
    await editor.getByLabel('Instructions').fill('Answer in one short paragraph.');
    await editor.getByLabel('Temperature').fill('0.2');
    await editor.getByLabel('Max steps').fill('4');
    await editor.getByRole('button', { name: 'Save' }).click();
    await editor.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const stored = (await api.get(`/api/v1/agents/${agentId}`)).body as any;
    expect(stored.configuration).toMatchObject({
      model: 'demo',
      instructions: 'Answer in one short paragraph.',
      temperature: 0.2,
      max_steps: 4,
      tools: ['current_time', 'calculator'],
    });
    // Attach a built-in tool, turn it off, and see both stored.
    const tools = page.getByRole('region', { name: 'Agent tools' });
    await tools.getByLabel('Built-in tool').selectOption('http_request');
    await tools.getByRole('button', { name: 'Attach tool' }).click();
    const attached = tools.locator('[data-tool-name="http_request"]');
    await attached.waitFor();
    // A click, not uncheck(): the box shows the stored state, which changes once the PATCH is answered.
    await attached.getByLabel('enabled').click();
    await expect
      .poll(async () =>
        ((await api.get(`/api/v1/agents/${agentId}/tools`)).body as any[]).map((tool) => [
          tool.tool_name,
          tool.is_enabled,
        ]),
      )
      .toEqual([['http_request', false]]);
    await expect.poll(() => attached.getByLabel('enabled').isChecked()).toBe(false);
    await expectAccessible();
    await screenshot('agents');
    expect(pageErrors).toEqual([]);
  });

  it('chats in the playground: the reply streams in, growing, with the tool call inline', async () => {
    await page
      .getByRole('row', { name: /Studio support/ })
      .getByRole('button', { name: /Chat/ })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Playground' }).waitFor();
    await send('What time is it?');
    const tool = page.locator('.tool[data-tool="current_time"]');
    await tool.locator('.tool-result').waitFor();
    await page.locator('.status[data-status="ready"]').waitFor({ timeout: 20_000 });
    threadId = await threadIdShown();

    const [user, assistant] = await storedReply(agentId, threadId);
    expect(user).toMatchObject({ role: 'user', content: 'What time is it?' });
    expect(assistant.tool_calls).toEqual([expect.objectContaining({ tool_name: 'current_time', error: null })]);
    const shownText = await page.locator('.message.assistant .text').last().textContent();
    expect(shownText).toBe(assistant.content);
    const texts = (await page.evaluate('window.replyTexts')) as string[];
    expect(texts.length).toBeGreaterThan(3);
    for (const text of texts) expect(assistant.content.startsWith(text)).toBe(true);
    expect(JSON.parse((await tool.locator('.tool-result').textContent())!)).toEqual(assistant.tool_calls[0].result);
    await expectAccessible();
    await screenshot('playground');
    expect(pageErrors).toEqual([]);
  });

  it('approves a tool call that needs approval, and the run goes on with its result', async () => {
    const agent = await api.createAgent({ name: 'Approver', configuration: { model: 'demo', tools: [] } });
    const port = (fixture.address() as AddressInfo).port;
    const tool = await api.post(`/api/v1/agents/${agent.id}/tools`, {
      tool_name: 'calculator',
      tool_type: 'external_tool',
      configuration: {
        description: 'Evaluates an arithmetic expression',
        method: 'POST',
        url: `http://127.0.0.1:${port}/calc`,
        input_schema: {
          type: 'object',
          properties: { expression: { type: 'string', maxLength: 200 } },
          required: ['expression'],
          additionalProperties: false,
        },
        requires_approval: true,
      },
    });
    expect(tool.status).toBe(200);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Playground' }).waitFor();
    await page.getByLabel('Agent').selectOption({ label: 'Approver' });
    await send('What is 6 * 7?');
    const call = page.locator('.tool[data-tool="calculator"]');
    await call.locator('[data-approval="pending"], :scope[data-approval="pending"]').or(call).first().waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await call.locator('.tool-result').waitFor();
    await page.locator('.status[data-status="ready"]').waitFor({ timeout: 20_000 });
    expect(await call.getAttribute('data-approval')).toBe('approved');
    expect(fixtureCalls).toEqual([{ expression: '6 * 7' }]);
    const approverThread = await threadIdShown();
    const [, assistant] = await storedReply(agent.id, approverThread);
    expect(assistant.tool_calls).toEqual([
      expect.objectContaining({ tool_name: 'calculator', result: { status: 200, body: { result: 42 } } }),
    ]);
    expect(pageErrors).toEqual([]);
  });

  it('gives feedback on an answer and finds it on the feedback page', async () => {
    const message = page.locator('.message.assistant').last();
    const messageId = await message.getAttribute('data-message-id');
    await message.getByLabel('Issue').selectOption('incomplete');
    await message.getByLabel('Comment').fill('Say how you got 42.');
    await message.getByRole('button', { name: 'Bad answer' }).click();
    await message.getByRole('status').filter({ hasText: 'feedback saved' }).waitFor();
    const listed = (await api.get('/api/v1/feedback')).body as any;
    expect(listed.feedback).toEqual([
      expect.objectContaining({
        ai_message_id: messageId,
        feedback_type: 'negative',
        issue_type: 'incomplete',
        comment: 'Say how you got 42.',
        source: 'studio',
      }),
    ]);
    await openPage('Feedback');
    const row = page.locator(`tr[data-message-id="${messageId}"]`);
    await expect.poll(() => row.textContent()).toContain('Say how you got 42.');
    await page.getByLabel('Rating').selectOption('positive');
    await expect.poll(() => row.count()).toBe(0);
    await page.getByLabel('Rating').selectOption('negative');
    await row.waitFor();
    await expectAccessible();
    await screenshot('feedback');
    expect(pageErrors).toEqual([]);
  });

  it('stops a reply mid-stream: the run is cancelled and keeps the text streamed so far', async () => {
    await openPage('Playground');
    await page.getByLabel('Agent').selectOption({ label: 'Approver' });
    await send('Please tell me a long story about a lighthouse keeper and the sea');
    // A function, not a string: the page's CSP refuses string evaluation (no 'unsafe-eval').
    await page.waitForFunction(() =>
      ((globalThis as any).replyTexts as string[]).some((text) => text.split(' ').length > 3),
    );
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.status[data-status="ready"]').waitFor();
    const shown = page.locator('.message.assistant').last();
    expect(await shown.getAttribute('data-status')).toBe('cancelled');
    const threadShown = await threadIdShown();
    const messages = await pollUntil(
      async () => {
        const stored = (await api.get(`/api/v1/chat/${await agentIdOf('Approver')}/threads/${threadShown}/messages`))
          .body as any[];
        return stored.at(-1)?.metadata.status === 'cancelled' ? stored : undefined;
      },
      { what: 'the cancelled reply' },
    );
    const reply = messages.at(-1);
    expect(reply.content.length).toBeGreaterThan(0);
    expect(reply.content).not.toContain('to see tools at work');
    expect(await shown.locator('.text').textContent()).toBe(reply.content);
    expect(pageErrors).toEqual([]);
  });

  it('uploads a file, shows it ready, and finds it by search', async () => {
    await openPage('Knowledge');
    await page.getByLabel('Agent').selectOption({ label: 'Studio support' });
    await page.getByLabel('Upload files').setInputFiles({
      name: 'returns-policy.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Returns\n\nParcels may be returned within forty days when the seal is unbroken.\n'),
    });
    const upload = page.locator('.uploads li', { hasText: 'returns-policy.md' });
    await upload.and(page.locator('[data-state="ready"]')).waitFor({ timeout: 30_000 });
    await page.locator('tr', { hasText: 'returns-policy.md' }).getByText('ready').waitFor();
    await page.getByLabel('Search the knowledge').fill('how many days to return a parcel');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const result = page.getByRole('list', { name: 'Search results' }).locator('.result').first();
    await expect.poll(() => result.textContent()).toContain('returns-policy.md');
    expect(await result.textContent()).toContain('forty days');
    const files = (await api.get(`/api/v1/agent-files/${agentId}/files`)).body as any;
    expect(files.files).toEqual([expect.objectContaining({ name: 'returns-policy.md', status: 'ready' })]);
    await expectAccessible();
    await screenshot('knowledge');
    expect(pageErrors).toEqual([]);
  });

  it('browses threads (list, search, the thread view) and deletes one', async () => {
    await openPage('Threads');
    await page.getByLabel('Agent').selectOption({ label: 'Studio support' });
    const threads = page.getByRole('list', { name: 'Threads' });
    await threads.getByRole('button').first().click();
    const view = page.getByRole('article', { name: 'Thread' });
    await view.locator('.tool[data-tool="current_time"]').waitFor();
    await expect.poll(() => view.locator('.message.user .text').textContent()).toBe('What time is it?');
    await page.getByLabel('Search messages').fill('time');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => threads.locator('.snippet mark').first().textContent()).toMatch(/time/i);
    await expectAccessible();
    await screenshot('threads');

    page.once('dialog', (dialog) => void dialog.accept());
    await threads.getByRole('button').first().click();
    await view.getByRole('button', { name: 'Delete thread' }).click();
    await expect.poll(async () => (await api.get(`/api/v1/chat/${agentId}/threads/${threadId}`)).status).toBe(404);
    expect(pageErrors).toEqual([]);
  });

  it('lists executions with filters and shows one as a timeline of model and tool steps', async () => {
    await openPage('Executions');
    const listed = (await api.get('/api/v1/flows/executions')).body as any;
    expect(listed.total_count).toBeGreaterThanOrEqual(2);
    const first = page.locator('tbody tr').first();
    await first.waitFor();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(listed.executions.length);
    await page.getByLabel('Status').selectOption('failed');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(0);
    await page.getByLabel('Status').selectOption('cancelled');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('Status').selectOption('completed');
    // The approved calculator run: model call, tool call, model call.
    const approved = listed.executions.find(
      (execution: any) =>
        execution.status === 'completed' && execution.steps.some((step: any) => step.step_type === 'tool'),
    );
    await page
      .locator(`tr[data-execution-id="${approved.id}"]`)
      .getByRole('button', { name: /Timeline/ })
      .click();
    const timeline = page.getByRole('region', { name: 'Timeline' });
    const stepTypes = await timeline
      .locator('.step')
      .evaluateAll((steps) => steps.map((step) => step.getAttribute('data-step-type')));
    expect(stepTypes).toEqual(approved.steps.map((step: any) => step.step_type));
    expect(stepTypes).toContain('tool');
    await expectAccessible();
    await screenshot('executions');
    expect(pageErrors).toEqual([]);
  });

  it('shows usage, keys, webhooks and MCP servers without an accessibility violation', async () => {
    for (const label of ['Usage', 'Keys', 'Webhooks', 'MCP servers']) {
      await openPage(label);
      await page.waitForLoadState('networkidle');
      await expectAccessible();
    }
    await openPage('Usage');
    await expect.poll(() => page.locator('tbody tr').count()).toBeGreaterThan(0);
    await screenshot('usage');
    expect(pageErrors).toEqual([]);
  });

  it('fits a 390 px wide screen: no page scrolls sideways, the menu opens and navigates', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const label of ['Agents', 'Playground', 'Threads', 'Executions', 'Feedback', 'Knowledge']) {
      await page.getByRole('button', { name: 'Menu' }).click();
      await openPage(label);
      await expectNoSidewaysScroll(page, label);
    }
    await screenshot('mobile-knowledge');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(pageErrors).toEqual([]);
  });

  it('serves the studio’s deep links and assets safely: SPA fallback, no traversal, a strict CSP', async () => {
    const deep = await fetch(`${base}/studio/threads`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await deep.text()).toContain('<div id="root"></div>');
    // Sent as written (fetch would normalise the dot segments away before the server saw them).
    const probes = [
      '/studio/..%2f..%2fpackage.json',
      '/studio/%2e%2e/%2e%2e/package.json',
      '/studio/assets/..%2f..%2f..%2fpackage.json',
      '/studio/..%5c..%5cpackage.json',
      '/studio/.vite/manifest.json',
      '/studio/assets/missing.js',
    ];
    for (const probe of probes) {
      const refused = await rawGet(probe);
      expect({ probe, status: refused.status }).toEqual({ probe, status: 404 });
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'route_not_found' });
    }
    const index = await fetch(`${base}/studio/`).then((response) => response.text());
    const asset = index.match(/assets\/index-[\w-]+\.js/)![0];
    const script = await fetch(`${base}/studio/${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });
});
