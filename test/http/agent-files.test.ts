import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { queryRows, settledFile, uploadFile } from '../helpers/agent-files.js';
import {
  CSV_SEMICOLON,
  HTML_ARTICLE,
  JSON_ARRAY,
  MARKDOWN,
  docx,
  longPdf,
  pptx,
  textPdf,
  xlsx,
} from '../fixtures/documents.js';
import { UUID_PATTERN } from '../helpers/ids.js';

/**
 * Issue 11: uploads over HTTP (multipart built by the test) reach `ready` in the background with
 * chunks; the AgentFile's contract fields and extensions; list, get, download, re-index, delete;
 * Agent.files. Every response is also checked against the OpenAPI document (harness).
 */

let context: TestContext;
let api: Api;
let key: string;
let organizationId: string;
let agentId: string;

beforeAll(async () => {
  context = await createTestContext();
  const organization = await context.newOrganization();
  ({ key, organizationId } = organization);
  api = client(context, key);
  agentId = (await api.createAgent({ name: 'Knowledge agent' })).id;
});
afterAll(async () => {
  await context.close();
});

async function upload(filename: string, content: Buffer | Uint8Array | string, contentType?: string) {
  const response = await uploadFile(context, {
    key,
    agentId,
    filename,
    content: typeof content === 'string' ? content : Buffer.from(content),
    ...(contentType ? { contentType } : {}),
  });
  expect(response.status, response.raw).toBe(200);
  return response.body;
}

describe('upload → ready (each type)', () => {
  const cases: [string, () => Promise<Uint8Array | string>, string, string, string][] = [
    ['handbook.pdf', textPdf, 'application/pdf', 'pdf', 'Uploads are checked before extraction.'],
    ['guide.docx', docx, 'application/octet-stream', 'docx', 'A laptop'],
    ['sheet.xlsx', xlsx, 'application/octet-stream', 'xlsx', 'Ada'],
    ['deck.pptx', pptx, 'application/octet-stream', 'pptx', ''],
    ['notes.txt', async () => 'Plain notes about the quarterly offsite in Lisbon.\n', 'text/plain', 'text', 'Lisbon'],
    ['guide.md', async () => MARKDOWN, 'text/markdown', 'markdown', ''],
    ['article.html', async () => HTML_ARTICLE, 'text/html', 'html', ''],
    ['people.csv', async () => CSV_SEMICOLON, 'text/csv', 'csv', 'Hopper; Grace'],
    ['items.json', async () => JSON_ARRAY, 'application/json', 'json', ''],
  ];

  for (const [filename, make, claimed, kind, expectedText] of cases) {
    it(`${kind}: answers at once with status processing, then becomes ready with chunks`, async () => {
      const content = await make();
      const created = await upload(filename, typeof content === 'string' ? content : Buffer.from(content), claimed);
      expect(created).toMatchObject({
        agent_id: agentId,
        organization_id: organizationId,
        name: filename,
        bucket_path: `${organizationId}/${created.id}`,
        size: Buffer.byteLength(typeof content === 'string' ? content : Buffer.from(content)),
        status: 'processing',
        error_message: null,
        source: 'upload',
        source_url: null,
        kind,
        chunk_count: 0,
        indexed_at: null,
      });
      expect(created.id).toMatch(UUID_PATTERN);
      expect(created.job_id).toMatch(UUID_PATTERN);
      const ready = await settledFile(context, { key, agentId, fileId: created.id });
      expect(ready.status, JSON.stringify(ready)).toBe('ready');
      expect(ready.error_message).toBeNull();
      expect(ready.chunk_count).toBeGreaterThan(0);
      expect(ready.indexed_at).not.toBeNull();
      const rows = await queryRows(context, 'select generation, url, title from file_chunks where file_id = $1', [
        created.id,
      ]);
      expect(rows).toHaveLength(ready.chunk_count);
      expect(rows.every((row) => row.url === null && row.title === null)).toBe(true);
      const job = await api.get(`/api/v1/agent-files/${agentId}/jobs/${created.job_id}`);
      expect(job.status).toBe(200);
      expect(job.body).toMatchObject({
        id: created.job_id,
        file_id: created.id,
        kind: 'file_ingestion',
        status: 'succeeded',
        attempts: 1,
      });
      expect(job.body.progress.chunks).toBe(ready.chunk_count);
      if (expectedText !== '') {
        const search = await api.get(
          `/api/v1/agent-files/${agentId}/files/search?query=${encodeURIComponent(expectedText)}&limit=20`,
        );
        expect(search.status).toBe(200);
        expect(
          search.body.some((hit: any) => hit.file.id === created.id && hit.chunk_text.includes(expectedText)),
        ).toBe(true);
      }
    });
  }

  it('a 300-page PDF is indexed in the background (answered processing at once, polled to ready)', async () => {
    const created = await upload('long-report.pdf', Buffer.from(await longPdf(300)), 'application/pdf');
    expect(created.status).toBe('processing');
    const ready = await settledFile(context, { key, agentId, fileId: created.id });
    expect(ready).toMatchObject({ status: 'ready', page_count: 300, metadata: { page_count: 300 } });
    expect(ready.chunk_count).toBeGreaterThan(0);
    const search = await api.get(`/api/v1/agent-files/${agentId}/files/search?query=${encodeURIComponent('Page 277')}`);
    expect(search.body[0]?.file.id).toBe(created.id);
  });
});
