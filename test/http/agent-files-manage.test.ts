import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { filesUnder, queryRows, settledFile, uploadFile } from '../helpers/agent-files.js';
import { expectError, loadSpec } from '../helpers/routes.js';

/**
 * The agent-files extensions: list (newest first, paged), get, download (attachment, nosniff,
 * the detected type), re-index (the old index searchable until the new one is ready; 409 while
 * a job runs), delete (bytes, chunks, full-text entries and jobs gone), the jobs route, and
 * Agent.files; the OpenAPI document lists every route.
 */

let context: TestContext;
let api: Api;
let key: string;
let organizationId: string;
let agentId: string;

beforeAll(async () => {
  context = await createTestContext();
  ({ key, organizationId } = await context.newOrganization());
  api = client(context, key);
  agentId = (await api.createAgent({ name: 'Librarian' })).id;
});
afterAll(async () => {
  await context.close();
});

async function readyFile(filename: string, content: string, contentType = 'text/plain') {
  const response = await uploadFile(context, { key, agentId, filename, content, contentType });
  expect(response.status, response.raw).toBe(200);
  const file = await settledFile(context, { key, agentId, fileId: response.body.id });
  expect(file.status).toBe('ready');
  return file;
}

const searchFor = (text: string) =>
  api.get(`/api/v1/agent-files/${agentId}/files/search?query=${encodeURIComponent(text)}`);

describe('list, get, Agent.files', () => {
  it('lists newest first with the extension lists’ paging, and Agent.files carries the same files', async () => {
    const first = await readyFile('first.txt', 'The first file mentions aardvarks.\n');
    const second = await readyFile('second.txt', 'The second file mentions badgers.\n');
    const page = await api.get(`/api/v1/agent-files/${agentId}/files?page=1&page_size=1`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total_count: 2, page: 1, page_size: 1, has_more: true });
    expect(page.body.files.map((file: any) => file.id)).toEqual([second.id]);
    const rest = await api.get(`/api/v1/agent-files/${agentId}/files?page=2&page_size=1`);
    expect(rest.body.files.map((file: any) => file.id)).toEqual([first.id]);
    expect(rest.body.has_more).toBe(false);

    const got = await api.get(`/api/v1/agent-files/${agentId}/files/${first.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(first);

    const agent = await api.get(`/api/v1/agents/${agentId}`);
    expect(agent.body.files.map((file: any) => file.id)).toEqual([second.id, first.id]);
    expect(agent.body.files[1]).toEqual(first);
    const agents = await api.get('/api/v1/agents');
    expect(agents.body.find((item: any) => item.id === agentId).files).toHaveLength(2);
    // Contract fields exactly, then the extensions.
    expect(Object.keys(first)).toEqual([
      'id',
      'agent_id',
      'organization_id',
      'name',
      'bucket_path',
      'size',
      'mime_type',
      'created_at',
      'updated_at',
      'metadata',
      'status',
      'error_message',
      'source',
      'source_url',
      'kind',
      'chunk_count',
      'page_count',
      'indexed_at',
      'job_id',
    ]);
  });

  it('answers 404 file_not_found / job_not_found for unknown ids, 422 for a malformed one', async () => {
    const unknown = '01a2237a-1111-7111-8111-111111111111';
    expectError(await api.get(`/api/v1/agent-files/${agentId}/files/${unknown}`), 404, 'file_not_found');
    expectError(await api.get(`/api/v1/agent-files/${agentId}/jobs/${unknown}`), 404, 'job_not_found');
    expectError(await api.get(`/api/v1/agent-files/${unknown}/files`), 404, 'agent_not_found');
    const malformed = await api.get(`/api/v1/agent-files/${encodeURIComponent('../../etc')}/files`);
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0]).toMatchObject({ loc: ['path', 'agent_id'], type: 'uuid_parsing' });
  });
});

describe('download', () => {
  it('serves the bytes as an attachment with the detected type and nosniff', async () => {
    const content =
      '<!doctype html><html><head><title>Page</title></head><body><p>Script-free page about herons.</p></body></html>';
    const file = await readyFile('report "final" é.html', content, 'text/html');
    expect(file.mime_type).toBe('text/html');
    const response = await context.parley.app.inject({
      method: 'GET',
      url: `/api/v1/agent-files/${agentId}/files/${file.id}/content`,
      headers: { 'x-api-key': key },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(content);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="report _final_ _.html"; filename*=UTF-8''report%20%22final%22%20%C3%A9.html`,
    );
  });

  it('answers 409 file_has_no_content for a URL file', async () => {
    const added = await api.post(`/api/v1/agent-files/${agentId}/urls`, { url: 'https://docs.example.test/none' });
    expect(added.status).toBe(200);
    expectError(
      await api.get(`/api/v1/agent-files/${agentId}/files/${added.body.file_id}/content`),
      409,
      'file_has_no_content',
    );
    expect((await api.delete(`/api/v1/agent-files/${agentId}/files/${added.body.file_id}`)).status).toBe(204);
  });
});

describe('re-index and delete', () => {
  it('re-indexes into a new generation; 409 file_job_running while its job is queued', async () => {
    const file = await readyFile('reindex.txt', 'Pelicans nest on the eastern shore.\n');
    const [before] = await queryRows(context, 'select generation from file_chunks where file_id = $1', [file.id]);
    const accepted = await api.post(`/api/v1/agent-files/${agentId}/files/${file.id}/reindex`, {});
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ status: 'success', file_id: file.id, job_id: expect.any(String) });
    // The job may already be running or done; while it is queued or running, another is refused.
    const again = await api.post(`/api/v1/agent-files/${agentId}/files/${file.id}/reindex`, {});
    if (again.status !== 200) expectError(again, 409, 'file_job_running');
    const settled = await settledFile(context, { key, agentId, fileId: file.id });
    expect(settled).toMatchObject({ status: 'ready', chunk_count: file.chunk_count });
    const after = await queryRows(context, 'select distinct generation from file_chunks where file_id = $1', [file.id]);
    expect(after).toHaveLength(1);
    expect(Number(after[0]!.generation)).toBeGreaterThan(Number(before!.generation));
    expect((await searchFor('pelicans nest')).body[0].file.id).toBe(file.id);
  });

  it('removes the bytes, the chunks, the full-text entries and the jobs', async () => {
    const file = await readyFile('delete-me.txt', 'Flamingos are pink because of their diet of shrimp.\n');
    const bytes = path.join(context.filesDir, organizationId, file.id);
    expect(fs.existsSync(bytes)).toBe(true);
    expect((await searchFor('flamingos diet')).body.map((hit: any) => hit.file.id)).toContain(file.id);
    const fullText = () =>
      context.database.target.kind === 'sqlite'
        ? queryRows(context, `select rowid from file_chunks_fts where file_chunks_fts match 'flamingos'`)
        : queryRows(context, `select id from file_chunks where search_vector @@ to_tsquery('english', 'flamingos')`);
    expect(await fullText()).toHaveLength(1);

    const deleted = await api.delete(`/api/v1/agent-files/${agentId}/files/${file.id}`);
    expect(deleted.status).toBe(204);
    expect(fs.existsSync(bytes)).toBe(false);
    expect(await queryRows(context, 'select id from file_chunks where file_id = $1', [file.id])).toEqual([]);
    expect(await fullText()).toEqual([]);
    expect(await queryRows(context, 'select id from jobs where subject_id = $1', [file.id])).toEqual([]);
    expect(await queryRows(context, 'select id from agent_files where id = $1', [file.id])).toEqual([]);
    expect((await searchFor('flamingos diet')).body).toEqual([]);
    expectError(await api.get(`/api/v1/agent-files/${agentId}/files/${file.id}`), 404, 'file_not_found');
    expectError(await api.get(`/api/v1/agent-files/${agentId}/jobs/${file.job_id}`), 404, 'job_not_found');
    expectError(await api.delete(`/api/v1/agent-files/${agentId}/files/${file.id}`), 404, 'file_not_found');
  });

  it('deleting the agent removes its files’ bytes, rows, chunks and jobs', async () => {
    const other = (await api.createAgent({ name: 'Short-lived' })).id;
    const response = await uploadFile(context, { key, agentId: other, filename: 'gone.txt', content: 'Ephemeral.\n' });
    const file = await settledFile(context, { key, agentId: other, fileId: response.body.id });
    expect(filesUnder(context.filesDir)).toContain(`${organizationId}/${file.id}`);
    expect((await api.delete(`/api/v1/agents/${other}`)).status).toBe(204);
    expect(filesUnder(context.filesDir)).not.toContain(`${organizationId}/${file.id}`);
    for (const table of ['agent_files', 'file_chunks', 'jobs']) {
      const column = table === 'agent_files' ? 'id' : table === 'jobs' ? 'subject_id' : 'file_id';
      expect(await queryRows(context, `select * from ${table} where ${column} = $1`, [file.id])).toEqual([]);
    }
  });
});

describe('OpenAPI document', () => {
  it('lists the agent-files routes, the extensions marked, the upload as multipart', async () => {
    const spec = await loadSpec(context);
    const base = '/api/v1/agent-files/{agent_id}';
    const routes = Object.entries<Record<string, any>>(spec.paths)
      .filter(([url]) => url.startsWith(base))
      .flatMap(([url, item]) => Object.entries(item).map(([method, operation]) => [`${method} ${url}`, operation]));
    expect(
      Object.fromEntries(routes.map(([name, operation]) => [name, operation['x-parley-extension'] === true])),
    ).toEqual({
      [`post ${base}/files`]: false,
      [`get ${base}/files`]: true,
      [`post ${base}/urls`]: false,
      [`get ${base}/files/search`]: false,
      [`get ${base}/files/{file_id}`]: true,
      [`delete ${base}/files/{file_id}`]: true,
      [`get ${base}/files/{file_id}/content`]: true,
      [`post ${base}/files/{file_id}/reindex`]: true,
      [`get ${base}/jobs/{job_id}`]: true,
    });
    const upload = spec.paths[`${base}/files`].post;
    expect(Object.keys(upload.requestBody.content)).toEqual(['multipart/form-data']);
    expect(upload.requestBody.content['multipart/form-data'].schema.properties.file).toMatchObject({
      format: 'binary',
    });
  });
});
