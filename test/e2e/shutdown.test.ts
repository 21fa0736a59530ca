import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BLANK_TEMPLATE } from '../helpers/ids.js';
import { startServer } from '../helpers/server-process.js';

let directory: string;
beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-shutdown-'));
});
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

/**
 * Sends the headers now and half the body once the server has read them; `received` resolves then
 * (the server's `100 Continue` proves it parsed the headers: the request is in flight before any
 * SIGTERM, however slowly the machine runs). `finish()` sends the rest and resolves with the response.
 */
function startRequest(baseUrl: string, pathname: string, key: string, body: string) {
  const url = new URL(pathname, baseUrl);
  const request = http.request(url, {
    method: 'POST',
    headers: {
      'x-api-key': key,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
    },
  });
  const half = Math.floor(body.length / 2);
  const received = new Promise<void>((resolve) =>
    request.once('continue', () => {
      request.write(body.slice(0, half));
      resolve();
    }),
  );
  request.flushHeaders();
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (incoming) => {
      let text = '';
      incoming.on('data', (chunk: Buffer) => (text += chunk.toString()));
      incoming.once('end', () => resolve({ status: incoming.statusCode ?? 0, body: text }));
    });
  });
  return {
    received,
    finish: () => {
      request.end(body.slice(half));
      return response;
    },
  };
}

function processRows(filename: string): number {
  const database = new Database(filename, { readonly: true });
  try {
    return (database.prepare('select count(*) as count from server_processes').get() as { count: number }).count;
  } finally {
    database.close();
  }
}

it('on SIGTERM finishes in-flight requests, answers new ones 503 until then, commits, and exits 0', async () => {
  const env = { DATABASE_URL: `sqlite:${path.join(directory, 'parley.db')}`, LOG_LEVEL: 'warn' };
  const server = await startServer(env);
  const key = server.key!;
  const agent = (await (
    await fetch(`${server.baseUrl}/api/v1/agents`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a', configuration: {}, template_id: BLANK_TEMPLATE }),
    })
  ).json()) as { id: string };

  const inFlight = Array.from({ length: 20 }, (_, index) =>
    startRequest(
      server.baseUrl,
      `/api/v1/chat/${agent.id}/threads`,
      key,
      JSON.stringify({ agent_id: agent.id, title: `in flight ${index}`, metadata: {} }),
    ),
  );
  // A thread follower, open across the shutdown.
  const thread = (await (
    await fetch(`${server.baseUrl}/api/v1/chat/${agent.id}/threads`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'followed' }),
    })
  ).json()) as { id: string };
  const follower = await fetch(`${server.baseUrl}/api/v1/chat/${agent.id}/threads/${thread.id}/stream`, {
    headers: { 'x-api-key': key },
  });
  expect(follower.status).toBe(200);
  const followerText = new Response(follower.body).text();

  await Promise.all(inFlight.map((request) => request.received));
  server.child.kill('SIGTERM');
  // The follower is told to reconnect, then its stream ends.
  expect(await followerText).toBe(': stream open\n\nevent: shutdown\nretry: 1000\ndata: {"type":"shutdown"}\n\n');
  await new Promise((resolve) => setTimeout(resolve, 200));

  // While requests are still in flight the listener stays open: probes get 503, not a refused
  // connection (issue 7, L7).
  for (const probe of ['/readyz', '/healthz', `/api/v1/chat/${agent.id}/threads`]) {
    const refused = await fetch(`${server.baseUrl}${probe}`, { headers: { 'x-api-key': key } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toEqual({
      detail: 'The server is shutting down or not ready.',
      code: 'service_unavailable',
      request_id: refused.headers.get('x-request-id'),
    });
  }
  const responses = await Promise.all(inFlight.map((request) => request.finish()));
  expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
  expect(await server.exited).toBe(0);
  // A clean stop removes the process's heartbeat row (ADR 0007): nobody has to find it dead.
  expect(processRows(path.join(directory, 'parley.db'))).toBe(0);

  const restarted = await startServer(env);
  try {
    const threads = await fetch(`${restarted.baseUrl}/api/v1/chat/${agent.id}/threads?limit=100`, {
      headers: { 'x-api-key': key },
    });
    const titles = ((await threads.json()) as { title: string }[]).map((thread) => thread.title).sort();
    expect(titles).toEqual([...Array.from({ length: 20 }, (_, index) => `in flight ${index}`), 'followed'].sort());
  } finally {
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }
});
