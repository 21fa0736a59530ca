import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEverythingServer } from '../fixtures/mcp-everything.js';
import { htmlPage, startSiteServer, type SiteServer } from '../fixtures/site-server.js';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import { pollUntil } from '../helpers/sse-client.js';
import { checkStudioPage, launchStudioBrowser, openPage, signIn } from './studio-page.js';

/**
 * The studio's action pages in Chromium (issue 15): tools (an external HTTP tool, an OpenAPI
 * import), a URL's crawl followed to its end, keys, webhooks, MCP servers and usage. Every action
 * is checked against what the server stored; each page passes axe-core and fits 390 px.
 */

let context: TestContext;
let org: TestOrganization;
let api: ReturnType<typeof client>;
let base: string;
let site: SiteServer;
let mcp: Awaited<ReturnType<typeof startEverythingServer>>;
let browser: ReturnType<typeof launchStudioBrowser>;
let page: Page;
let pageErrors: string[] = [];
let agentId: string;

/** Two operations on the loopback site; its `servers` URL is where the tools will call. */
const openApiDocument = (origin: string) => ({
  openapi: '3.0.3',
  info: { title: 'Orders', version: '1' },
  servers: [{ url: origin }],
  paths: {
    '/orders/{order_id}': {
      get: {
        operationId: 'getOrder',
        summary: 'One order',
        parameters: [{ name: 'order_id', in: 'path', required: true, schema: { type: 'string', maxLength: 40 } }],
        responses: { '200': { description: 'The order' } },
      },
    },
    '/orders': {
      get: { operationId: 'listOrders', summary: 'Every order', responses: { '200': { description: 'Orders' } } },
    },
  },
});

beforeAll(async () => {
  browser = launchStudioBrowser();
  [site, mcp] = await Promise.all([startSiteServer(), startEverythingServer()]);
  site.routes({
    '/openapi.json': { type: 'application/json', body: JSON.stringify(openApiDocument(site.origin)) },
    '/docs/': { body: htmlPage({ title: 'Docs home', links: ['/docs/guide', '/docs/gone'] }) },
    '/docs/guide': { body: htmlPage({ title: 'Guide', body: 'The refund window is thirty days for every order.' }) },
    '/hooks': { status: 200, type: 'text/plain', body: 'ok' },
  });
  context = await createTestContext({
    outboundAllow: `127.0.0.1:${site.port},127.0.0.1:${mcp.port}`,
    webhooks: { allowHttp: true },
    jobs: { pollMs: 50 },
  });
  base = await context.listen();
  org = await context.newOrganization();
  api = client(context, org.key);
  agentId = (await api.createAgent({ name: 'Tools agent', configuration: { model: 'demo' } })).id;
  ({ page, pageErrors } = await browser.open());
  await signIn(page, { url: `${base}/studio/`, key: org.key, heading: 'Agents' });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([site?.close(), mcp?.close()]);
  await context?.close();
});

const checkPage = (label: string, name: string) => checkStudioPage({ page, pageErrors, label, name });

describe('Parley Studio actions, in Chromium', () => {
  it('creates an external HTTP tool from the form, its header kept secret', async () => {
    await openPage(page, 'Tools');
    const form = page.getByRole('form', { name: 'New external tool' });
    await form.getByLabel('Tool name').fill('lookup_order');
    await form.getByLabel('Method').selectOption('GET');
    await form.getByLabel('Endpoint URL').fill(`${site.origin}/orders/{order_id}`);
    await form.getByLabel('Description').fill('Looks an order up by its id.');
    const schema = {
      type: 'object',
      properties: { order_id: { type: 'string', maxLength: 40 } },
      required: ['order_id'],
    };
    await form.getByLabel('Parameters (JSON schema)').fill(JSON.stringify(schema));
    await form.getByLabel(/^Headers/).fill('{"x-api-key": "order-secret-1"}');
    await form.getByRole('button', { name: 'Create tool' }).click();
    await form.getByRole('status').filter({ hasText: 'Created lookup_order.' }).waitFor();
    await page.locator('[data-tool-name="lookup_order"]').waitFor();
    const tools = (await api.get(`/api/v1/agents/${agentId}/tools`)).body as any[];
    expect(tools).toHaveLength(1);
    expect(tools[0]).toMatchObject({
      tool_name: 'lookup_order',
      tool_type: 'external_tool',
      is_enabled: true,
      configuration: { method: 'GET', url: `${site.origin}/orders/{order_id}`, input_schema: schema },
    });
    expect(JSON.stringify(tools[0])).not.toContain('order-secret-1');

    // A schema the server refuses: its 422 detail is shown, nothing is stored.
    await form.getByLabel('Tool name').fill('broken_tool');
    await form.getByLabel('Endpoint URL').fill(`${site.origin}/orders/{missing}`);
    await form.getByLabel('Description').fill('Names a placeholder the schema lacks.');
    await form.getByRole('button', { name: 'Create tool' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/^body\.configuration.*missing/);
    expect((await api.get(`/api/v1/agents/${agentId}/tools`)).body).toHaveLength(1);
    pageErrors.splice(0); // the refused create is a 422 the browser logs
  });

  it('imports an OpenAPI description from a loopback URL: preview, import, the tools stored', async () => {
    const form = page.getByRole('form', { name: 'Import OpenAPI' });
    await form.getByLabel('Or its URL').fill(`${site.origin}/openapi.json`);
    await form.getByRole('button', { name: 'Preview' }).click();
    await form.getByRole('status').filter({ hasText: 'Would create 2 tools.' }).waitFor();
    expect((await api.get(`/api/v1/agents/${agentId}/tools`)).body).toHaveLength(1);
    await form.getByRole('button', { name: 'Import' }).click();
    await form.getByRole('status').filter({ hasText: 'Created 2 tools, skipped 0.' }).waitFor();
    await expect
      .poll(() => page.getByRole('region', { name: 'Agent tools' }).locator('[data-tool-name]').count())
      .toBe(3);
    const tools = (await api.get(`/api/v1/agents/${agentId}/tools`)).body as any[];
    const imported = tools.filter((tool) => tool.tool_name !== 'lookup_order');
    expect(imported.map((tool) => [tool.tool_name, tool.configuration.method, tool.configuration.url]).sort()).toEqual([
      ['getOrder', 'GET', `${site.origin}/orders/{order_id}`],
      ['listOrders', 'GET', `${site.origin}/orders`],
    ]);
    expect(site.requested.filter((path) => path === '/openapi.json')).toHaveLength(2);
    await checkPage('Tools', 'tools');
  });

  it('adds a URL and follows its crawl to the end, then re-crawls it', async () => {
    await openPage(page, 'Knowledge');
    await page.getByLabel('Add a URL').fill(`${site.origin}/docs/`);
    await page.getByRole('button', { name: 'Add URL' }).click();
    const job = page.getByRole('region', { name: 'Ingestion job' });
    await page.locator('[data-job-status="succeeded"]').waitFor();
    const files = (await api.get(`/api/v1/agent-files/${agentId}/files`)).body.files as any[];
    expect(files).toHaveLength(1);
    const stored = (await api.get(`/api/v1/agent-files/${agentId}/jobs/${files[0].job_id}`)).body;
    expect(stored).toMatchObject({ status: 'succeeded', progress: { pages_done: 2 } });
    expect(stored.progress.problems).toEqual([{ url: `${site.origin}/docs/gone`, reason: 'HTTP 404' }]);
    expect(await job.textContent()).toContain(`pages ${stored.progress.pages_done}`);
    expect(await job.textContent()).toContain(`${stored.progress.chunks} chunks`);
    expect(await job.getByRole('list', { name: 'Pages not indexed' }).textContent()).toBe(
      `${site.origin}/docs/gone: HTTP 404`,
    );
    await page.locator(`[data-file-id="${files[0].id}"] .badge.ready`).waitFor();
    await checkPage('Knowledge', 'knowledge-url');

    const guideFetches = site.requested.filter((path) => path === '/docs/guide').length;
    await page.getByRole('button', { name: `Re-crawl ${site.origin}/docs/` }).click();
    const again = await pollUntil(
      async () => {
        const file = (await api.get(`/api/v1/agent-files/${agentId}/files/${files[0].id}`)).body;
        return file.job_id !== files[0].job_id ? file : undefined;
      },
      { what: 'the re-crawl job' },
    );
    await page.locator('[data-job-status="succeeded"]').waitFor();
    expect((await api.get(`/api/v1/agent-files/${agentId}/jobs/${again.job_id}`)).body.status).toBe('succeeded');
    expect(site.requested.filter((path) => path === '/docs/guide').length).toBe(guideFetches + 1);
    expect(pageErrors).toEqual([]);
  });
});

describe('Parley Studio keys, webhooks, MCP servers and usage, in Chromium', () => {
  const secretShown = () => page.getByRole('status').locator('code').first().textContent();

  it('creates an API key (its secret shown once, and working), revokes it, and a widget key with origins', async () => {
    await openPage(page, 'Keys');
    await page.getByLabel('Key name', { exact: true }).fill('ci key');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secret = (await secretShown())!;
    const stored = ((await api.get('/api/v1/api-keys')).body as any[]).find((key) => key.name === 'ci key');
    expect(stored).toMatchObject({ scopes: ['read', 'write'], revoked_at: null });
    expect(secret.startsWith(stored.prefix)).toBe(true);
    expect((await client(context, secret).get('/api/v1/agents')).status).toBe(200);

    await page.getByLabel('Widget key name').fill('shop widget');
    await page.getByLabel('Allowed origins').fill('https://shop.example https://www.shop.example');
    await page.getByRole('button', { name: 'Create widget key' }).click();
    await page.getByRole('status').filter({ hasText: 'pwk_' }).waitFor();
    const widget = ((await api.get('/api/v1/widget-keys')).body as any[]).find((key) => key.name === 'shop widget');
    expect(widget).toMatchObject({
      agent_id: agentId,
      allowed_origins: ['https://shop.example', 'https://www.shop.example'],
    });
    expect(await secretShown()).toContain(widget.prefix);
    await checkPage('Keys', 'keys');

    // Shown once: another visit to the page has no secret on it.
    await openPage(page, 'Usage');
    await openPage(page, 'Keys');
    expect(await page.getByText(secret).count()).toBe(0);
    await page.getByRole('button', { name: 'Revoke ci key' }).click();
    await page.getByText(/revoked/).waitFor();
    expect((await api.get(`/api/v1/api-keys/${stored.id}`)).body.revoked_at).not.toBeNull();
    expect((await client(context, secret).get('/api/v1/agents')).status).toBe(401);
    await page.getByRole('button', { name: 'Revoke shop widget' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Revoke shop widget' }).count()).toBe(0);
    expect((await api.get(`/api/v1/widget-keys/${widget.id}`)).body.revoked_at).not.toBeNull();
    expect(pageErrors).toEqual([]);
  });

  it('creates a webhook (secret shown once), sends a test to a loopback receiver, and rotates the secret', async () => {
    await openPage(page, 'Webhooks');
    await page.getByLabel('Endpoint URL').fill(`${site.origin}/hooks`);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText(`${site.origin}/hooks`).waitFor();
    const first = (await secretShown())!;
    const [hook] = (await api.get('/api/v1/webhooks')).body as any[];
    expect(hook).toMatchObject({ url: `${site.origin}/hooks`, events: ['run.completed'] });
    expect(JSON.stringify(hook)).not.toContain(first);

    await page.getByRole('button', { name: 'Send test' }).click();
    const row = page.locator('[data-delivery-status="delivered"]');
    await row.waitFor();
    const [delivery] = (await api.get(`/api/v1/webhooks/${hook.id}/deliveries`)).body.deliveries as any[];
    expect(delivery).toMatchObject({ event_type: 'webhook.test', status: 'delivered', last_status_code: 200 });
    expect(await row.locator('td').allTextContents()).toEqual([
      'webhook.test',
      'delivered',
      String(delivery.attempts),
      '200',
      expect.any(String),
    ]);
    expect(site.requested.filter((path) => path === '/hooks')).toHaveLength(delivery.attempts);
    await checkPage('Webhooks', 'webhooks');

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await expect.poll(secretShown).not.toBe(first);
    expect(await secretShown()).toMatch(/^whsec_/);
    expect(pageErrors).toEqual([]);
  });

  it('adds a loopback MCP server, connects it, checks its health and lists its tools', async () => {
    await openPage(page, 'MCP servers');
    await page.getByLabel('Server name').fill('everything');
    await page.getByLabel('Server URL').fill(mcp.url);
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.getByRole('button', { name: 'Connect everything' }).click();
    await page.getByRole('status').filter({ hasText: 'Connect: success' }).waitFor();
    await page.getByRole('button', { name: 'Health check everything' }).click();
    await page.locator('[data-health="healthy"]').waitFor();
    const [server] = (await api.get(`/api/v1/mcp/agents/${agentId}/servers`)).body as any[];
    expect(server).toMatchObject({ name: 'everything', url: mcp.url, status: 'connected' });
    await page.locator('.badge.connected').waitFor();
    await page.getByRole('button', { name: 'Tools everything' }).click();
    const tools = (await api.get(`/api/v1/mcp/agents/${agentId}/servers/${server.id}/tools`)).body as any[];
    const shown = page.getByRole('region', { name: 'MCP tools' }).locator('[data-tool-name]');
    await expect.poll(() => shown.count()).toBe(tools.length);
    expect(await shown.evaluateAll((items) => items.map((item) => item.getAttribute('data-tool-name')))).toEqual(
      tools.map((tool) => tool.tool_name),
    );
    expect(tools.length).toBeGreaterThan(3);
    await checkPage('MCP servers', 'mcp');
    // Where the OAuth callback sends a browser that signed in (test/mcp/oauth-flow.test.ts).
    await page.goto(`${base}/studio/mcp?mcp_oauth=authorized&mcp_server_id=${server.id}`);
    await page.getByRole('status').filter({ hasText: 'Signed in: the MCP server is connected.' }).waitFor();
  });

  it('shows the usage of a chat by day, agent and model as GET /api/v1/usage counts it', async () => {
    const thread = await api.createThread(agentId);
    const reply = await api.post(`/api/v1/chat/${agentId}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'Hello there',
    });
    expect(reply.status).toBe(200);
    await openPage(page, 'Usage');
    for (const groupBy of ['day', 'agent', 'model']) {
      await page.getByRole('radio', { name: groupBy }).check();
      const report = (await api.get(`/api/v1/usage?group_by=${groupBy}`)).body;
      expect(report.rows.length).toBeGreaterThan(0);
      const expected = report.rows.map((row: any) => [row.key, String(row.runs), String(row.total_tokens)]);
      const rows = page.locator('tbody tr');
      await expect
        .poll(async () =>
          (
            await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
          ).map((cells) => [cells[0], cells[1], cells[4]]),
        )
        .toEqual(expected);
    }
    await checkPage('Usage', 'usage-by-model');
  });
});
