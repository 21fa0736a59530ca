import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BLANK_TEMPLATE } from '../helpers/ids.js';
import { startServer } from '../helpers/server-process.js';

let directory: string;
beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-crash-'));
});
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

async function json(response: Response) {
  return (await response.json()) as any;
}

it('after kill -9 mid-run, a restart fails the orphaned run, marks the reply interrupted and frees the thread', async () => {
  // Two words a second: the run is still going when the process is killed.
  const env = {
    DATABASE_URL: `sqlite:${path.join(directory, 'parley.db')}`,
    LOG_LEVEL: 'warn',
    DEMO_MODEL_WORDS_PER_SECOND: '2',
    SHUTDOWN_TIMEOUT_MS: '2500',
  };
  const server = await startServer(env);
  const key = server.key!;
  const headers = { 'x-api-key': key, 'content-type': 'application/json' };
  const agent = await json(
    await fetch(`${server.baseUrl}/api/v1/agents`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'a', configuration: {}, template_id: BLANK_TEMPLATE }),
    }),
  );
  const thread = await json(
    await fetch(`${server.baseUrl}/api/v1/chat/${agent.id}/threads`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: 't' }),
    }),
  );
  const stream = await fetch(`${server.baseUrl}/api/v1/chat/${agent.id}/threads/${thread.id}/messages/stream`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ role: 'user', content: 'hello' }),
  });
  expect(stream.status).toBe(200);
  const reader = stream.body!.getReader();
  let received = '';
  while (!received.includes('event: text-delta')) received += new TextDecoder().decode((await reader.read()).value);
  const runId = /"run_id":"([0-9a-f-]{36})"/.exec(received)![1]!;
  server.child.kill('SIGKILL');
  await server.exited;

  const restarted = await startServer(env);
  try {
    const execution = await json(await fetch(`${restarted.baseUrl}/api/v1/flows/executions/${runId}`, { headers }));
    expect(execution).toMatchObject({
      id: runId,
      status: 'failed',
      error_message: 'The run was interrupted (its server stopped)',
    });
    const messages = await json(
      await fetch(`${restarted.baseUrl}/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, { headers }),
    );
    expect(messages.map((message: any) => [message.role, message.metadata.status ?? null])).toEqual([
      ['user', null],
      ['assistant', 'interrupted'],
    ]);
    // The run ends in the thread's log too (issue 7, M4): a client resuming from the start hears
    // the reply as it was left and `run-error` with `interrupted`, instead of waiting forever.
    const replay = await fetch(`${restarted.baseUrl}/api/v1/chat/${agent.id}/threads/${thread.id}/stream?after=0`, {
      headers,
      signal: AbortSignal.timeout(10_000),
    });
    const replayReader = replay.body!.getReader();
    let replayed = '';
    while (!replayed.includes('event: run-error')) {
      replayed += new TextDecoder().decode((await replayReader.read()).value);
    }
    await replayReader.cancel();
    const events = [...replayed.matchAll(/^id: (\S+)\nevent: (\S+)\ndata: (.*)$/gm)].map((match) => ({
      id: match[1],
      event: match[2],
      data: JSON.parse(match[3]!),
    }));
    const durable = events.filter((event) => !event.id!.includes('.'));
    expect(durable.slice(-2).map((event) => event.event)).toEqual(['message-end', 'run-error']);
    expect(durable.at(-1)!.data).toMatchObject({
      run_id: runId,
      status: 'failed',
      error: { code: 'interrupted', message: 'The run was interrupted (its server stopped)' },
      message: { role: 'assistant', metadata: { status: 'interrupted' } },
    });
    expect(durable.map((event) => event.id)).toEqual(durable.map((_, index) => String(index + 1)));

    // The thread is free again: a new message is accepted (the pace makes it return later, so only its start is checked).
    const next = await fetch(`${restarted.baseUrl}/api/v1/chat/${agent.id}/threads/${thread.id}/messages/stream`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ role: 'user', content: 'again' }),
    });
    expect(next.status).toBe(200);
    await next.body!.cancel();
  } finally {
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }
});
