import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { dumpDatabase } from '../helpers/routes.js';
import { createWidgetKey, startSession } from '../helpers/widget.js';
import { collectPageErrors, launchChromium } from './browser-harness.js';

/**
 * The chat widget in a real browser (issue 12, part B): the same page served from two loopback
 * origins (two ports). On the origin the widget key allows, Chromium mints a session, creates a
 * thread, streams a reply and renews its token with `Authorization: Bearer` across origins; on
 * the other, the browser's CORS check refuses the session and the token alike.
 */

/** What the page runs: the embedding steps of docs/widget.md, with their outcome in `window.widgetResult`. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>widget</title></head><body>
<script type="module">
const params = new URLSearchParams(location.search);
const api = params.get('api');
const widgetKey = params.get('key');
const steps = {};
async function step(name, work) {
  try { steps[name] = { ok: true, value: await work() }; }
  catch (error) { steps[name] = { ok: false, error: String(error) }; }
}
const json = async (response) => ({ status: response.status, body: await response.json() });
await step('session', async () => json(await fetch(api + '/api/v1/widget/sessions', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ widget_key: widgetKey }),
})));
const token = steps.session.ok ? steps.session.value.body.token : params.get('foreignToken');
const auth = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
const agent = params.get('agent');
await step('thread', async () => json(await fetch(api + '/api/v1/chat/' + agent + '/threads', {
  method: 'POST', headers: auth, body: JSON.stringify({ agent_id: agent, title: 'From the page', metadata: {} }),
})));
if (steps.thread.ok) {
  const thread = steps.thread.value.body.id;
  await step('stream', async () => {
    const response = await fetch(api + '/api/v1/chat/' + agent + '/threads/' + thread + '/messages/stream', {
      method: 'POST', headers: auth, body: JSON.stringify({ role: 'user', content: 'hello from the browser' }),
    });
    return { status: response.status, text: await response.text() };
  });
  await step('list', async () => json(await fetch(api + '/api/v1/chat/' + agent + '/threads', { headers: auth })));
  await step('renew', async () => json(await fetch(api + '/api/v1/widget/sessions', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ widget_key: widgetKey, token }),
  })));
  await step('replayed', async () => json(await fetch(api + '/api/v1/chat/' + agent + '/threads', { headers: auth })));
}
window.widgetResult = steps;
</script></body></html>`;

async function serveOnLoopback(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

let context: TestContext;
let base: string;
let allowed: Awaited<ReturnType<typeof serveOnLoopback>>;
let refused: Awaited<ReturnType<typeof serveOnLoopback>>;
let browserLaunch: Promise<Browser>;
let agentId: string;
let publishable: string;

beforeAll(async () => {
  browserLaunch = launchChromium();
  browserLaunch.catch(() => undefined);
  [allowed, refused] = [await serveOnLoopback(), await serveOnLoopback()];
  context = await createTestContext();
  base = await context.listen();
  const organization = await context.newOrganization();
  const admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant', configuration: { model: 'demo', tools: [] } })).id;
  publishable = (await createWidgetKey(admin, agentId, [allowed.origin])).publishable_key;
});
afterAll(async () => {
  await (await browserLaunch.catch(() => null))?.close();
  await context?.close();
  await allowed?.close();
  await refused?.close();
});

async function runPage(origin: string, extra: Record<string, string> = {}) {
  const browser = await browserLaunch;
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  const query = new URLSearchParams({ api: base, key: publishable, agent: agentId, ...extra });
  await page.goto(`${origin}/?${query}`);
  await page.waitForFunction(() => (globalThis as unknown as { widgetResult?: unknown }).widgetResult !== undefined);
  const result = await page.evaluate(() => (globalThis as unknown as { widgetResult: any }).widgetResult);
  await page.close();
  return { result, errors };
}

describe('the widget in Chromium', () => {
  it('works from the allowed origin: session, thread, streamed reply, own list, renewal', async () => {
    const { result, errors } = await runPage(allowed.origin);
    expect(result.session).toMatchObject({ ok: true, value: { status: 200 } });
    const anonymousUserId = result.session.value.body.anon_user_id;
    expect(result.thread).toMatchObject({
      ok: true,
      value: { status: 200, body: { anon_user_id: anonymousUserId, user_id: null } },
    });
    expect(result.stream.ok).toBe(true);
    expect(result.stream.value.status).toBe(200);
    expect(result.stream.value.text).toContain('event: run-end');
    expect(result.list.value.body.map((thread: { id: string }) => thread.id)).toEqual([result.thread.value.body.id]);
    expect(result.renew).toMatchObject({ ok: true, value: { status: 200, body: { anon_user_id: anonymousUserId } } });
    // The renewed token is refused, and the page can read why (the answer carries its origin).
    expect(result.replayed).toMatchObject({ ok: true, value: { status: 401, body: { code: 'invalid_widget_token' } } });
    expect(errors.filter((error) => !error.includes('401'))).toEqual([]);
  });

  it('is refused by the browser on another origin: no session, and a token from the allowed origin does not work', async () => {
    const foreignToken = (await startSession(context, { widgetKey: publishable, origin: allowed.origin })).token;
    const before = await dumpDatabase(context);
    const { result, errors } = await runPage(refused.origin, { foreignToken });
    expect(result.session).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
    expect(result.thread).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
    expect(errors.some((error) => error.includes('CORS'))).toBe(true);
    // The preflights were refused, so the requests they announced were never sent: nothing changed.
    expect(await dumpDatabase(context)).toEqual(before);
  });
});
