import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { longPdf } from '../fixtures/documents.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { SUPPORT_TEMPLATE } from '../helpers/ids.js';
import { queryRows } from '../helpers/agent-files.js';
import { createTestDatabase, TEST_DIALECT, type TestDatabase } from '../helpers/test-database.js';

/**
 * kill -9 while a file is being indexed (a real server process; SQLite file, or PostgreSQL under
 * `npm run test:pg`): the file is never left `processing`. With a short JOB_LEASE_MS the restarted
 * server claims the job again once its lease lapses and finishes it; a job interrupted
 * JOB_MAX_ATTEMPTS times fails its file with the reason. Bytes and rows stay consistent.
 */

let pdf: Buffer;
/** Each test has its own database and files directory, so its first start bootstraps its own key. */
let database: TestDatabase;
let directory: string;

beforeAll(async () => {
  // Long enough that indexing is still running when the test sees the job claimed.
  pdf = Buffer.from(await longPdf(600));
}, 120_000);
beforeEach(async () => {
  database = await createTestDatabase(TEST_DIALECT);
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-files-crash-'));
});
afterEach(async () => {
  await database.destroy();
  fs.rmSync(directory, { recursive: true, force: true });
});

function environment(): Record<string, string> {
  const target = database.target;
  return {
    DATABASE_URL: target.kind === 'sqlite' ? `sqlite:${target.filename}` : target.connectionString,
    FILES_DIR: path.join(directory, 'files'),
    LOG_LEVEL: 'warn',
    JOB_LEASE_MS: '1000',
    JOB_MAX_ATTEMPTS: '3',
    INGESTION_CONCURRENCY: '1',
    SHUTDOWN_TIMEOUT_MS: '3000',
  };
}

async function api(server: ServerProcess, key: string, method: string, url: string, body?: unknown) {
  const response = await fetch(`${server.baseUrl}${url}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function uploadPdf(server: ServerProcess, key: string, agentId: string): Promise<any> {
  const form = new FormData();
  form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'long-report.pdf');
  const response = await fetch(`${server.baseUrl}/api/v1/agent-files/${agentId}/files`, {
    method: 'POST',
    headers: { 'x-api-key': key },
    body: form,
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** Reads the job every 20 ms until `done` holds (bounded by count). */
async function jobUntil(
  server: ServerProcess,
  input: { key: string; agentId: string; jobId: string },
  done: (job: any) => boolean,
): Promise<any> {
  for (let attempt = 0; attempt < 3000; attempt += 1) {
    const job = await api(server, input.key, 'GET', `/api/v1/agent-files/${input.agentId}/jobs/${input.jobId}`);
    if (done(job.body)) return job.body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the job never reached the expected state');
}

async function killNow(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

/** The first start's bootstrap key and an agent made with it. */
async function newAgent(server: ServerProcess): Promise<{ key: string; agentId: string }> {
  const key = server.key!;
  const agent = await api(server, key, 'POST', '/api/v1/agents', {
    name: 'Crash test',
    configuration: {},
    template_id: SUPPORT_TEMPLATE,
  });
  expect(agent.status).toBe(200);
  return { key, agentId: agent.body.id };
}

describe('kill -9 during indexing', () => {
  it('the restarted server takes the job up again and the file becomes ready, its bytes and chunks consistent', async () => {
    const first = await startServer(environment());
    const { key, agentId } = await newAgent(first);
    const file = await uploadPdf(first, key, agentId);
    const ids = { key, agentId, jobId: file.job_id };
    await jobUntil(first, ids, (job) => job.status === 'running' && job.attempts === 1);
    await killNow(first);

    const second = await startServer(environment());
    try {
      const job = await jobUntil(second, ids, (current) => !['queued', 'running'].includes(current.status));
      expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
      const ready = await api(second, key, 'GET', `/api/v1/agent-files/${agentId}/files/${file.id}`);
      expect(ready.body).toMatchObject({ status: 'ready', page_count: 600, error_message: null });
      expect(ready.body.chunk_count).toBeGreaterThan(0);
      expect(fs.statSync(path.join(directory, 'files', file.organization_id, file.id)).size).toBe(pdf.length);
      // Only the ready generation's chunks remain (the killed attempt's were removed).
      const generations = await queryRows(
        { database },
        'select distinct generation from file_chunks where file_id = $1',
        [file.id],
      );
      const [row] = await queryRows({ database }, 'select ready_generation from agent_files where id = $1', [file.id]);
      expect(generations.map((generation) => Number(generation.generation))).toEqual([Number(row!.ready_generation)]);
      const search = await api(second, key, 'GET', `/api/v1/agent-files/${agentId}/files/search?query=Page%20543`);
      expect(search.body[0].file.id).toBe(file.id);
    } finally {
      await stop(second);
    }
  }, 180_000);

  it('a job interrupted JOB_MAX_ATTEMPTS times fails its file with the reason; nothing is half-indexed', async () => {
    let server = await startServer(environment());
    const { key, agentId } = await newAgent(server);
    const file = await uploadPdf(server, key, agentId);
    const ids = { key, agentId, jobId: file.job_id };
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await jobUntil(server, ids, (job) => job.status === 'running' && job.attempts === attempt);
      await killNow(server);
      server = await startServer(environment());
    }
    try {
      const job = await jobUntil(server, ids, (current) => current.status === 'failed');
      expect(job).toMatchObject({ attempts: 3, error_message: 'indexing was interrupted 3 times' });
      const failed = await api(server, key, 'GET', `/api/v1/agent-files/${agentId}/files/${file.id}`);
      expect(failed.body).toMatchObject({
        status: 'failed',
        error_message: 'indexing was interrupted 3 times',
        chunk_count: 0,
      });
      expect(await queryRows({ database }, 'select id from file_chunks where file_id = $1', [file.id])).toEqual([]);
      // Its bytes are kept (a re-index may succeed), and no partial index is searchable.
      expect(fs.existsSync(path.join(directory, 'files', file.organization_id, file.id))).toBe(true);
      const search = await api(server, key, 'GET', `/api/v1/agent-files/${agentId}/files/search?query=Page%20377`);
      expect(search.body.every((hit: any) => hit.file.id !== file.id)).toBe(true);
    } finally {
      await stop(server);
    }
  }, 240_000);
});
