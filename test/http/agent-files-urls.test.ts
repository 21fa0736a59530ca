import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { queryRows, settledFile } from '../helpers/agent-files.js';
import { htmlPage, startSiteServer, type SiteServer } from '../fixtures/site-server.js';

/**
 * URL ingestion end to end (contract #29): a loopback site (allowed by OUTBOUND_ALLOW for its
 * port) is crawled by the job; its pages' chunks carry their URL and title; the jobs route shows
 * the progress; a JavaScript-only shell fails the file with that reason; refused URLs are 422.
 */

let site: SiteServer;
let context: TestContext;
let api: Api;
let key: string;
let agentId: string;

const LONG_TEXT = 'Otters hold hands while they sleep so that they do not drift apart on the water. ';

beforeAll(async () => {
  site = await startSiteServer();
  context = await createTestContext({ outboundAllow: `127.0.0.1:${site.port}` });
  ({ key } = await context.newOrganization());
  api = client(context, key);
  agentId = (await api.createAgent({ name: 'Crawler' })).id;
});
afterAll(async () => {
  await context.close();
  await site.close();
});

async function addUrl(url: string) {
  const response = await api.post(`/api/v1/agent-files/${agentId}/urls`, { url });
  expect(response.status, response.raw).toBe(200);
  expect(response.body).toEqual({ status: 'success', file_id: expect.any(String), job_id: expect.any(String) });
  return response.body as { file_id: string; job_id: string };
}

describe('a site', () => {
  it('is crawled to ready: chunks carry their page’s URL and title, the job shows pages and chunks', async () => {
    site.routes({
      '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nAllow: /\n' },
      '/docs/': {
        body: htmlPage({ title: 'Docs home', links: ['/docs/otters', '/docs/missing'], body: LONG_TEXT.repeat(4) }),
      },
      '/docs/otters': {
        body: htmlPage({ title: 'About otters', body: `${LONG_TEXT.repeat(6)} Sea otters use tools.` }),
      },
    });
    const start = `${site.origin}/docs/`;
    const { file_id: fileId, job_id: jobId } = await addUrl(start);
    const created = await api.get(`/api/v1/agent-files/${agentId}/files/${fileId}`);
    expect(created.body).toMatchObject({
      name: start,
      source: 'url',
      source_url: start,
      mime_type: 'text/html',
      bucket_path: `url:${start}`,
    });

    const file = await settledFile(context, { key, agentId, fileId });
    expect(file).toMatchObject({ status: 'ready', error_message: null, job_id: jobId, page_count: 2 });
    expect(file.size).toBeGreaterThan(0);
    expect(file.metadata).toMatchObject({
      pages_indexed: 2,
      problems: [{ url: `${site.origin}/docs/missing`, reason: 'HTTP 404' }],
    });

    const rows = await queryRows(context, 'select url, title from file_chunks where file_id = $1 order by ordinal', [
      fileId,
    ]);
    expect(rows.length).toBe(file.chunk_count);
    expect(new Set(rows.map((row) => `${row.title} ${row.url}`))).toEqual(
      new Set([`Docs home ${site.origin}/docs/`, `About otters ${site.origin}/docs/otters`]),
    );

    const job = await api.get(`/api/v1/agent-files/${agentId}/jobs/${jobId}`);
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({
      id: jobId,
      file_id: fileId,
      kind: 'file_ingestion',
      status: 'succeeded',
      attempts: 1,
      error_message: null,
      progress: {
        pages_done: 2,
        chunks: file.chunk_count,
        problems: [{ url: `${site.origin}/docs/missing`, reason: 'HTTP 404' }],
      },
    });
    expect(job.body.finished_at).not.toBeNull();

    const search = await api.get(
      `/api/v1/agent-files/${agentId}/files/search?query=${encodeURIComponent('sea otters tools')}`,
    );
    expect(search.body[0]).toMatchObject({
      file: { id: fileId },
      chunk_text: expect.stringContaining('Sea otters use tools'),
    });
  });

  it('a JavaScript-only shell → failed with that reason, no chunks', async () => {
    site.routes({
      '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nAllow: /\n' },
      '/app': {
        body: '<!doctype html><html><head><title>App</title><script src="/bundle.js"></script></head><body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>',
      },
    });
    const { file_id: fileId, job_id: jobId } = await addUrl(`${site.origin}/app`);
    const file = await settledFile(context, { key, agentId, fileId });
    expect(file).toMatchObject({ status: 'failed', chunk_count: 0 });
    expect(file.error_message).toContain('needs JavaScript');
    expect(file.error_message).toContain(`${site.origin}/app`);
    const job = await api.get(`/api/v1/agent-files/${agentId}/jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: 'failed', error_message: file.error_message });
    expect(await queryRows(context, 'select id from file_chunks where file_id = $1', [fileId])).toEqual([]);
  });

  it('a re-crawl keeps the ready index until the new one replaces it', async () => {
    site.routes({
      '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nAllow: /\n' },
      '/news': { body: htmlPage({ title: 'News', body: `${LONG_TEXT.repeat(4)} The first edition about walruses.` }) },
    });
    const { file_id: fileId } = await addUrl(`${site.origin}/news`);
    expect((await settledFile(context, { key, agentId, fileId })).status).toBe('ready');
    site.routes({
      '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nAllow: /\n' },
      '/news': { body: htmlPage({ title: 'News', body: `${LONG_TEXT.repeat(4)} The second edition about narwhals.` }) },
    });
    const reindex = await api.post(`/api/v1/agent-files/${agentId}/files/${fileId}/reindex`, {});
    expect(reindex.status).toBe(200);
    // While the re-crawl runs the file stays ready (and searchable); then the new text replaces the old.
    expect((await api.get(`/api/v1/agent-files/${agentId}/files/${fileId}`)).body.status).toBe('ready');
    const file = await settledFile(context, { key, agentId, fileId });
    expect(file.status).toBe('ready');
    const texts = (await queryRows(context, 'select text from file_chunks where file_id = $1', [fileId])).map(
      (row) => row.text,
    );
    expect(texts.join(' ')).toContain('narwhals');
    expect(texts.join(' ')).not.toContain('walruses');
  });
});

describe('Idempotency-Key', () => {
  it('a retried add with the same key replays the answer and adds one file', async () => {
    site.routes({ '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nDisallow: /\n' } });
    const body = { url: `${site.origin}/once` };
    const headers = { 'idempotency-key': 'add-url-once' };
    const first = await api.post(`/api/v1/agent-files/${agentId}/urls`, body, headers);
    const replay = await api.post(`/api/v1/agent-files/${agentId}/urls`, body, headers);
    expect(first.status).toBe(200);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await queryRows(context, 'select id from agent_files where source_url = $1', [body.url])).toHaveLength(1);
    const file = await settledFile(context, { key, agentId, fileId: first.body.file_id });
    expect(file.status).toBe('failed');
    expect(file.error_message).toContain('disallowed by robots.txt');
  });
});

describe('refused URLs', () => {
  it('a private address, a non-http scheme, an over-long URL → 422, nothing stored', async () => {
    const before = await queryRows(context, 'select id from agent_files');
    const privateAddress = await api.post(`/api/v1/agent-files/${agentId}/urls`, { url: 'http://10.0.0.5/' });
    expect(privateAddress.status).toBe(422);
    expect(privateAddress.body.code).toBe('url_not_allowed');
    expect(privateAddress.body.detail).toContain('outbound_blocked: address');
    const scheme = await api.post(`/api/v1/agent-files/${agentId}/urls`, { url: 'file:///etc/passwd' });
    expect(scheme.status).toBe(422);
    const long = await api.post(`/api/v1/agent-files/${agentId}/urls`, {
      url: `https://example.com/${'a'.repeat(2100)}`,
    });
    expect(long.status).toBe(422);
    expect(long.body.detail[0]).toMatchObject({ loc: ['body', 'url'], type: 'string_too_long' });
    expect(await queryRows(context, 'select id from agent_files')).toEqual(before);
  });
});
