import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, injectRequest, type Api, type TestContext } from '../helpers/harness.js';
import {
  filesUnder,
  multipartBody,
  queryRows,
  settledFile,
  uploadFile,
  type FormPart,
} from '../helpers/agent-files.js';
import { expectError } from '../helpers/routes.js';
import {
  contentTypesFor,
  corruptPdf,
  deflatedEntry,
  deflatedZeros,
  imageOnlyPdf,
  png,
  rawZip,
  storedEntry,
} from '../fixtures/documents.js';

/**
 * T14 / T25 (reliability.md): bad uploads get clear errors and leave nothing behind — no bytes
 * under FILES_DIR (the tree is walked), no file rows, chunks or jobs; file names are labels only,
 * never paths; documents that cannot be read fail their file cleanly and the server keeps answering.
 */

const MAX_UPLOAD_BYTES = 64 * 1024;
const QUOTA_BYTES = 200 * 1024;

let context: TestContext;
let api: Api;
let key: string;
let organizationId: string;
let agentId: string;

beforeAll(async () => {
  context = await createTestContext({
    knowledgeConfig: { maxUploadBytes: MAX_UPLOAD_BYTES, organizationQuotaBytes: QUOTA_BYTES },
  });
  ({ key, organizationId } = await context.newOrganization());
  api = client(context, key);
  agentId = (await api.createAgent({ name: 'Gatekeeper' })).id;
});
afterAll(async () => {
  await context.close();
});

function send(parts: readonly FormPart[]) {
  const { body, contentType } = multipartBody(parts);
  return injectRequest(context, {
    method: 'POST',
    url: `/api/v1/agent-files/${agentId}/files`,
    headers: { 'x-api-key': key, 'content-type': contentType },
    body,
  });
}

/** What a refused upload must leave: nothing stored beyond what was there. */
async function nothingLeft(before: { files: string[]; rows: number }) {
  expect(filesUnder(context.filesDir)).toEqual(before.files);
  const counts = await Promise.all(
    ['agent_files', 'file_chunks', 'jobs'].map(
      async (table) => (await queryRows(context, `select id from ${table}`)).length,
    ),
  );
  expect(counts.reduce((sum, count) => sum + count, 0)).toBe(before.rows);
}

async function state() {
  const rows = await Promise.all(
    ['agent_files', 'file_chunks', 'jobs'].map((table) => queryRows(context, `select id from ${table}`)),
  );
  return { files: filesUnder(context.filesDir), rows: rows.reduce((sum, list) => sum + list.length, 0) };
}

describe('refused uploads leave no bytes, rows, chunks or jobs', () => {
  const refusals: [string, () => Promise<FormPart[]>, number, string][] = [
    [
      'over MAX_UPLOAD_BYTES → 413 file_too_large',
      async () => [{ name: 'file', filename: 'big.txt', content: 'a'.repeat(MAX_UPLOAD_BYTES + 1) }],
      413,
      'file_too_large',
    ],
    ['empty → 422 empty_file', async () => [{ name: 'file', filename: 'empty.txt', content: '' }], 422, 'empty_file'],
    [
      'a PNG → 415 unsupported_file_type',
      async () => [
        {
          name: 'file',
          filename: 'image.png',
          contentType: 'image/png',
          content: Buffer.from(png({ width: 8, height: 8 })),
        },
      ],
      415,
      'unsupported_file_type',
    ],
    [
      'HTML labelled application/pdf → 415 unsupported_file_type',
      async () => [
        {
          name: 'file',
          filename: 'invoice.pdf',
          contentType: 'application/pdf',
          content: '<html><script>alert(1)</script></html>',
        },
      ],
      415,
      'unsupported_file_type',
    ],
    [
      'a zip bomb in a DOCX → 422 unsafe_file',
      async () => [
        {
          name: 'file',
          filename: 'bomb.docx',
          content: Buffer.from(
            rawZip([
              storedEntry('[Content_Types].xml', contentTypesFor('docx')),
              deflatedEntry('word/document.xml', deflatedZeros(2048)),
            ]),
          ),
        },
      ],
      422,
      'unsafe_file',
    ],
  ];
  for (const [label, parts, status, code] of refusals) {
    it(label, async () => {
      const before = await state();
      const response = await send(await parts());
      expect(response.status, response.raw).toBe(status);
      expect(response.body.code).toBe(code);
      await nothingLeft(before);
    });
  }

  it('beyond the organisation’s quota → 413 storage_quota_exceeded (while streaming, and counted over its files)', async () => {
    const kept: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await uploadFile(context, {
        key,
        agentId,
        filename: `part-${index}.txt`,
        content: `Quota filler ${index}. `.repeat(3500),
      });
      expect(response.status, response.raw).toBe(200);
      kept.push(response.body.id);
    }
    const before = await state();
    const response = await uploadFile(context, {
      key,
      agentId,
      filename: 'one-too-many.txt',
      content: 'More text. '.repeat(5000),
    });
    expectError(response, 413, 'storage_quota_exceeded');
    await nothingLeft(before);
    for (const id of kept) {
      await settledFile(context, { key, agentId, fileId: id });
      expect((await api.delete(`/api/v1/agent-files/${agentId}/files/${id}`)).status).toBe(204);
    }
  });

  it('no `file` field, a file under another name, two files, a JSON body → 422', async () => {
    const before = await state();
    const text = { filename: 'a.txt', content: 'Some text.\n' };
    const missing = await send([{ name: 'note', content: 'just a field' }]);
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toEqual([{ loc: ['body', 'file'], msg: 'Field required', type: 'missing' }]);
    const elsewhere = await send([{ name: 'document', ...text }]);
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.detail[0].loc).toEqual(['body', 'document']);
    const two = await send([
      { name: 'file', ...text },
      { name: 'file', ...text },
    ]);
    expect(two.status).toBe(422);
    expect(two.body.detail[0].msg).toBe('Exactly one file is accepted, in the `file` field');
    const json = await api.post(`/api/v1/agent-files/${agentId}/files`, { file: 'not a file' });
    expect(json.status).toBe(422);
    expect(json.body.detail[0]).toMatchObject({ loc: ['body', 'file'], type: 'missing' });
    const malformed = await injectRequest(context, {
      method: 'POST',
      url: `/api/v1/agent-files/${agentId}/files`,
      headers: { 'x-api-key': key, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunterminated',
    });
    expect([400, 422]).toContain(malformed.status);
    await nothingLeft(before);
  });

  it('agent_id=../../etc in the path → 422, nothing read', async () => {
    const before = await state();
    const { body, contentType } = multipartBody([{ name: 'file', filename: 'x.txt', content: 'x' }]);
    const response = await injectRequest(context, {
      method: 'POST',
      url: `/api/v1/agent-files/${encodeURIComponent('../../etc')}/files`,
      headers: { 'x-api-key': key, 'content-type': contentType },
      body,
    });
    expect(response.status).toBe(422);
    expect(response.body.detail[0].loc).toEqual(['path', 'agent_id']);
    await nothingLeft(before);
  });
});

describe('file names are labels, never paths', () => {
  const names: [string, string][] = [
    ['../../../../tmp/x', 'x'],
    ['..\\..\\x', 'x'],
    ['/etc/passwd', 'passwd'],
    ['C:\\Windows\\win.ini', 'win.ini'],
    ['evil\u0000.txt', 'evil.txt'],
    ['..', 'upload'],
    [`${'n'.repeat(300)}.txt`, 'n'.repeat(255)],
  ];
  it('stores the sanitised name, keeps the bytes under <organization>/<file id>, writes nothing elsewhere', async () => {
    const before = filesUnder(context.filesDir);
    const outside = path.join(os.tmpdir(), 'x');
    const existedOutside = fs.existsSync(outside);
    for (const [raw, stored] of names) {
      const response = await uploadFile(context, {
        key,
        agentId,
        filename: raw,
        contentType: 'text/plain',
        content: `Named ${stored}.\n`,
      });
      expect(response.status, `${JSON.stringify(raw)}: ${response.raw}`).toBe(200);
      expect(response.body.name).toBe(stored);
      expect(response.body.bucket_path).toBe(`${organizationId}/${response.body.id}`);
      const file = await settledFile(context, { key, agentId, fileId: response.body.id });
      expect(file.status).toBe('ready');
      expect(filesUnder(context.filesDir)).toContain(`${organizationId}/${response.body.id}`);
      expect((await api.delete(`/api/v1/agent-files/${agentId}/files/${response.body.id}`)).status).toBe(204);
    }
    // Every stored file went with its row; nothing was ever written beside them.
    expect(filesUnder(context.filesDir)).toEqual(before);
    expect(fs.existsSync(outside)).toBe(existedOutside);
  });
});

describe('documents that cannot be read fail their file, and the server keeps answering', () => {
  it('an image-only PDF → failed "no text layer (OCR needed)"', async () => {
    const response = await uploadFile(context, {
      key,
      agentId,
      filename: 'scan.pdf',
      content: Buffer.from(await imageOnlyPdf()),
    });
    expect(response.status).toBe(200);
    const file = await settledFile(context, { key, agentId, fileId: response.body.id });
    expect(file).toMatchObject({ status: 'failed', chunk_count: 0, indexed_at: null });
    expect(file.error_message).toContain('no text layer (OCR needed)');
    const job = await api.get(`/api/v1/agent-files/${agentId}/jobs/${file.job_id}`);
    expect(job.body).toMatchObject({ status: 'failed', error_message: file.error_message });
    expect(await queryRows(context, 'select id from file_chunks where file_id = $1', [file.id])).toEqual([]);
  });

  it('a corrupt PDF → failed cleanly with a reason', async () => {
    const response = await uploadFile(context, {
      key,
      agentId,
      filename: 'broken.pdf',
      content: Buffer.from(await corruptPdf()),
    });
    expect(response.status).toBe(200);
    const file = await settledFile(context, { key, agentId, fileId: response.body.id });
    expect(file.status).toBe('failed');
    expect(file.error_message).toEqual(expect.any(String));
    expect(file.error_message).not.toMatch(/\/|Error:|at /);
    expect((await api.get('/api/v1/agents')).status).toBe(200);
  });
});
