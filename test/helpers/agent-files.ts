import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { injectRequest, type Response, type TestContext } from './harness.js';

/** One part of a multipart/form-data body the tests build by hand (exact bytes, any name). */
export interface FormPart {
  name: string;
  /** Present for a file part; sent as is (quotes and backslashes escaped as browsers do). */
  filename?: string;
  contentType?: string;
  content: Buffer | string;
}

/** A multipart/form-data body and its Content-Type (with the boundary). */
export function multipartBody(parts: readonly FormPart[]): { body: Buffer; contentType: string } {
  const boundary = `----parley-test-${crypto.randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = [`form-data; name="${part.name}"`];
    if (part.filename !== undefined) disposition.push(`filename="${part.filename.replace(/(["\\])/g, '\\$1')}"`);
    const headers = [`Content-Disposition: ${disposition.join('; ')}`];
    if (part.contentType !== undefined) headers.push(`Content-Type: ${part.contentType}`);
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8'));
    chunks.push(typeof part.content === 'string' ? Buffer.from(part.content, 'utf8') : part.content);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** `POST /api/v1/agent-files/{agent_id}/files` with one file in the field `file`. */
export function uploadFile(
  context: TestContext,
  input: { key: string; agentId: string; filename: string; content: Buffer | string; contentType?: string },
): Promise<Response> {
  const { body, contentType } = multipartBody([
    {
      name: 'file',
      filename: input.filename,
      contentType: input.contentType ?? 'application/octet-stream',
      content: input.content,
    },
  ]);
  return injectRequest(context, {
    method: 'POST',
    url: `/api/v1/agent-files/${input.agentId}/files`,
    headers: { 'x-api-key': input.key, 'content-type': contentType },
    body,
  });
}

/**
 * The file once its job has ended (read every 50 ms: bounded by count, not asserted on time — a
 * slow machine only waits longer).
 */
export async function settledFile(
  context: TestContext,
  input: { key: string; agentId: string; fileId: string; attempts?: number },
): Promise<any> {
  const read = async () => {
    const response = await injectRequest(context, {
      method: 'GET',
      url: `/api/v1/agent-files/${input.agentId}/files/${input.fileId}`,
      headers: { 'x-api-key': input.key },
    });
    if (response.status !== 200) throw new Error(`GET file: ${response.status} ${response.raw}`);
    return response.body;
  };
  const file = await read();
  await jobEnded(context, { ...input, jobId: file.job_id });
  return read();
}

/** Waits (every 50 ms, bounded by count) until the job is neither queued nor running. */
export async function jobEnded(
  context: TestContext,
  input: { key: string; agentId: string; jobId: string; attempts?: number },
): Promise<any> {
  const attempts = input.attempts ?? 2400;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const job = await injectRequest(context, {
      method: 'GET',
      url: `/api/v1/agent-files/${input.agentId}/jobs/${input.jobId}`,
      headers: { 'x-api-key': input.key },
    });
    if (job.status !== 200) throw new Error(`GET job: ${job.status} ${job.raw}`);
    if (!['queued', 'running'].includes(job.body.status)) return job.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${input.jobId} still running after ${attempts} reads`);
}

/** Every regular file under `root`, relative to it, sorted ('' when the folder does not exist). */
export function filesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(path.relative(root, full));
    }
  };
  walk(root);
  return found.sort();
}

/**
 * Rows of a query on the context's database, written once with `$1, $2…` placeholders (turned
 * into `?` for SQLite), for assertions on stored state (chunks, full-text entries, jobs).
 */
export async function queryRows(
  context: Pick<TestContext, 'database'>,
  text: string,
  parameters: readonly unknown[] = [],
): Promise<Record<string, any>[]> {
  const target = context.database.target;
  if (target.kind === 'sqlite') {
    const connection = new Database(target.filename, { readonly: true, fileMustExist: true });
    try {
      return connection.prepare(text.replace(/\$\d+/g, '?')).all(...parameters) as Record<string, any>[];
    } finally {
      connection.close();
    }
  }
  const connection = new pg.Client({ connectionString: target.connectionString });
  await connection.connect();
  try {
    return (await connection.query(text, [...parameters])).rows;
  } finally {
    await connection.end();
  }
}
