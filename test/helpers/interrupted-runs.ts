import { expect } from 'vitest';
import { BLANK_TEMPLATE } from './ids.js';
import type { ServerProcess } from './server-process.js';
import {
  httpJson,
  isDelta,
  replayLog,
  storedExecution,
  storedMessages,
  threadPath,
  type ThreadRef,
} from './sse-client.js';

/**
 * Crash tests: a reply still being written when its server is killed, and what recovery must
 * leave of it. The servers run the demo model slowly (DEMO_MODEL_WORDS_PER_SECOND=2), so the
 * reply is mid-stream when the test kills them.
 */

/** Starts a reply on a fresh agent's thread and resolves once its text streams. */
export async function startSlowReply(
  server: ServerProcess,
  key: string,
): Promise<{ thread: ThreadRef; runId: string }> {
  const agent = await httpJson(server.baseUrl, key, 'POST', '/api/v1/agents', {
    name: 'a',
    configuration: {},
    template_id: BLANK_TEMPLATE,
  });
  const created = await httpJson(server.baseUrl, key, 'POST', `/api/v1/chat/${agent.body.id}/threads`, { title: 't' });
  const thread: ThreadRef = { base: server.baseUrl, key, agentId: agent.body.id, threadId: created.body.id };
  const stream = await fetch(`${server.baseUrl}${threadPath(thread)}/messages/stream`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'user', content: 'hello' }),
  });
  expect(stream.status).toBe(200);
  const reader = stream.body!.getReader();
  let received = '';
  while (!received.includes('event: text-delta')) received += new TextDecoder().decode((await reader.read()).value);
  const runId = /"run_id":"([0-9a-f-]{36})"/.exec(received)![1]!;
  return { thread, runId };
}

/**
 * What recovery leaves of a run whose server died, read from `thread.base`: the execution failed
 * as interrupted, the reply marked so, the thread's log ending with the reply's `message-end` and
 * `run-error` (`interrupted`) without gaps, and the thread free for a new message.
 */
export async function expectInterrupted(thread: ThreadRef, runId: string): Promise<void> {
  expect(await storedExecution(thread, runId)).toMatchObject({
    id: runId,
    status: 'failed',
    error_message: 'The run was interrupted (its server stopped)',
    error_details: { code: 'interrupted' },
  });
  const messages = await storedMessages(thread);
  expect(messages.map((message: any) => [message.role, message.metadata.status ?? null])).toEqual([
    ['user', null],
    ['assistant', 'interrupted'],
  ]);
  // The run ends in the thread's log too (issue 7, M4): a client resuming from the start hears
  // the reply as it was left and `run-error` with `interrupted`, instead of waiting forever.
  const durable = (await replayLog(thread, 6)).filter((event) => !isDelta(event));
  expect(durable.map((event) => event.event)).toEqual([
    'message-start',
    'message-end',
    'run-start',
    'message-start',
    'message-end',
    'run-error',
  ]);
  expect(durable.map((event) => event.id)).toEqual(['1', '2', '3', '4', '5', '6']);
  expect(durable[4]!.data).toEqual({ type: 'message-end', message: messages[1] });
  expect(durable[5]!.data).toEqual({
    type: 'run-error',
    run_id: runId,
    status: 'failed',
    error: { code: 'interrupted', message: 'The run was interrupted (its server stopped)' },
    message: messages[1],
  });

  // The thread is free again: a new message is accepted (the pace makes it return later, so only its start is checked).
  const next = await fetch(`${thread.base}${threadPath(thread)}/messages/stream`, {
    method: 'POST',
    headers: { 'x-api-key': thread.key, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'user', content: 'again' }),
  });
  expect(next.status).toBe(200);
  await next.body!.cancel();
  // Nothing came between the run's end and the new question: one `run-error`, appended once.
  const after = (await replayLog(thread, 7)).filter((event) => !isDelta(event));
  expect(after.slice(6).map((event) => [event.id, event.event, event.data.role])).toEqual([
    ['7', 'message-start', 'user'],
  ]);
}
