import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { bareRequest } from '../helpers/routes.js';
import { buildWidgetBundle } from '../helpers/widget-bundle.js';

/** `GET /widget.js` and `GET /widget/demo` (docs/widget.md, section 5): public, cached, escaped. */

const DEMO_KEY = 'pwk_0123456789abcdef0123456789abcdef_configured';
let context: TestContext;
let bundle: Buffer;

beforeAll(async () => {
  await buildWidgetBundle();
  bundle = await readFile(new URL('../../dist/widget/widget.js', import.meta.url));
  context = await createTestContext({ widget: { demoKey: DEMO_KEY } });
});
afterAll(() => context.close());

describe('GET /widget.js', () => {
  it('serves the built bundle without a key, as JavaScript, cacheable for five minutes with an ETag', async () => {
    const response = await bareRequest(context, 'GET', '/widget.js');
    expect(response.status).toBe(200);
    expect(response.raw).toBe(bundle.toString('utf8'));
    expect(response.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=300, must-revalidate',
      'cross-origin-resource-policy': 'cross-origin',
      'x-content-type-options': 'nosniff',
      etag: expect.stringMatching(/^"[\w-]{27}"$/),
    });
  });

  it('answers a revalidation with the same ETag 304 and no body, and another ETag with the bundle', async () => {
    const { etag } = (await bareRequest(context, 'GET', '/widget.js')).headers;
    const again = await bareRequest(context, 'GET', '/widget.js', { headers: { 'if-none-match': String(etag) } });
    expect(again.status).toBe(304);
    expect(again.raw).toBe('');
    expect(again.headers.etag).toBe(etag);
    const stale = await bareRequest(context, 'GET', '/widget.js', { headers: { 'if-none-match': '"older"' } });
    expect(stale.status).toBe(200);
    expect(stale.raw.length).toBe(bundle.length);
  });
});

describe('GET /widget/demo', () => {
  it('embeds the key of the URL, as HTML under a strict Content-Security-Policy, cached by no one', async () => {
    const response = await bareRequest(context, 'GET', '/widget/demo?key=pwk_from_url&title=Support&color=%23aa0000');
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': expect.stringContaining("script-src 'self'"),
    });
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.raw).toContain(
      '<script src="/widget.js" data-widget-key="pwk_from_url" data-color="#aa0000" data-title="Support" async></script>',
    );
  });

  it('falls back to WIDGET_DEMO_KEY', async () => {
    const response = await bareRequest(context, 'GET', '/widget/demo');
    expect(response.raw).toContain(`<script src="/widget.js" data-widget-key="${DEMO_KEY}" async></script>`);
  });

  it('writes every query value escaped: nothing in the URL becomes markup', async () => {
    const hostile = '"><script>alert(1)</script><x a=\'';
    const query = new URLSearchParams({ key: hostile, greeting: hostile, user_id: '<b>' });
    const response = await bareRequest(context, 'GET', `/widget/demo?${query}`);
    expect(response.status).toBe(200);
    expect(response.raw).not.toContain('<script>alert(1)');
    expect(response.raw.match(/<script/g)).toHaveLength(1);
    const escaped = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;x a=&#39;';
    expect(response.raw).toContain(`data-widget-key="${escaped}"`);
    expect(response.raw).toContain(`data-greeting="${escaped}"`);
    expect(response.raw).toContain('data-user-id="&lt;b&gt;"');
  });
});

describe('GET /widget/demo without any key', () => {
  it('says how to name one, and embeds no script', async () => {
    const bare = await createTestContext();
    try {
      const response = await bareRequest(bare, 'GET', '/widget/demo');
      expect(response.status).toBe(200);
      expect(response.raw).toContain('WIDGET_DEMO_KEY');
      expect(response.raw).not.toContain('<script');
    } finally {
      await bare.close();
    }
  });
});
