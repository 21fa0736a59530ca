import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARACTERS } from '../../src/features/messages/messages.schemas.js';
import { registryWith, say, scriptedModel } from '../fixtures/scripted-model.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { dumpDatabase } from '../helpers/routes.js';
import {
  SseConnection,
  expectStoredMatchesStream,
  httpJson,
  threadPath,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * Bad input to POST …/messages and …/messages/stream over real HTTP: each is answered with its
 * documented error before anything is stored (the whole database is compared), and the stream
 * endpoint answers it as JSON, never as an event stream.
 */

const scripted = scriptedModel('scripted:input', [say('Fine.')]);

let context: TestContext;
let base: string;
let own: ThreadRef & { organizationId: string };
let foreign: ThreadRef;
let unconfigured: ThreadRef;
beforeAll(async () => {
  context = await createTestContext({ models: registryWith(scripted) });
  base = await context.listen();
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const agent = await api.createAgent({ configuration: { model: 'scripted:input', tools: [] } });
  const thread = await api.createThread(agent.id);
  own = {
    base,
    key: organization.key,
    agentId: agent.id,
    threadId: thread.id,
    organizationId: organization.organizationId,
  };
  // One exchange already in the thread, so "nothing stored" is checked against a non-empty thread.
  const first = await httpJson(base, own.key, 'POST', `${threadPath(own)}/messages`, {
    role: 'user',
    content: 'hello',
  });
  if (first.status !== 200) throw new Error(`seed run: ${first.status}`);

  const other = await context.newOrganization();
  const otherApi = client(context, other.key);
  const otherAgent = await otherApi.createAgent({ configuration: { model: 'demo' } });
  const otherThread = await otherApi.createThread(otherAgent.id);
  foreign = { base, key: other.key, agentId: otherAgent.id, threadId: otherThread.id };

  const openai = await api.createAgent({ configuration: { model: 'openai:gpt-4.1-mini' } });
  const openaiThread = await api.createThread(openai.id);
  unconfigured = { base, key: organization.key, agentId: openai.id, threadId: openaiThread.id };
});
afterAll(async () => {
  await context?.close();
});

interface Case {
  name: string;
  path: () => string;
  body: () => unknown;
  status: number;
  code: string;
  /** For 422: the `loc` of each issue; otherwise the exact `detail`. */
  loc?: (string | number)[][];
  detail?: string;
}

const ownPath = () => threadPath(own);
const CASES: Case[] = [
  {
    name: 'an unknown role',
    path: ownPath,
    body: () => ({ role: 'robot', content: 'beep' }),
    status: 422,
    code: 'validation_error',
    loc: [['body', 'role']],
  },
  {
    name: 'empty content',
    path: ownPath,
    body: () => ({ role: 'user', content: '' }),
    status: 422,
    code: 'validation_error',
    loc: [['body', 'content']],
  },
  {
    name: 'content over 32768 characters',
    path: ownPath,
    body: () => ({ role: 'user', content: 'x'.repeat(MAX_MESSAGE_CHARACTERS + 1) }),
    status: 422,
    code: 'validation_error',
    loc: [['body', 'content']],
  },
  {
    name: 'no content',
    path: ownPath,
    body: () => ({ role: 'user' }),
    status: 422,
    code: 'validation_error',
    loc: [['body', 'content']],
  },
  {
    name: 'a body agent_id other than the path’s',
    path: ownPath,
    body: () => ({ role: 'user', content: 'hi', agent_id: crypto.randomUUID() }),
    status: 422,
    code: 'validation_error',
    loc: [['body', 'agent_id']],
  },
  {
    name: 'another organisation’s thread under one’s own agent',
    path: () => `/api/v1/chat/${own.agentId}/threads/${foreign.threadId}`,
    body: () => ({ role: 'user', content: 'hi' }),
    status: 404,
    code: 'thread_not_found',
    detail: 'Chat thread not found.',
  },
  {
    name: 'another organisation’s thread under one’s own agent (imported message)',
    path: () => `/api/v1/chat/${own.agentId}/threads/${foreign.threadId}`,
    body: () => ({ role: 'assistant', content: 'planted' }),
    status: 404,
    code: 'thread_not_found',
    detail: 'Chat thread not found.',
  },
  {
    name: 'another organisation’s agent and thread',
    path: () => threadPath(foreign),
    body: () => ({ role: 'user', content: 'hi' }),
    status: 404,
    code: 'agent_not_found',
    detail: 'Agent not found.',
  },
  {
    name: 'an agent whose model is openai:gpt-4.1-mini without OPENAI_API_KEY',
    path: () => threadPath(unconfigured),
    body: () => ({ role: 'user', content: 'hi' }),
    status: 400,
    code: 'model_not_configured',
    detail: 'Model "openai:gpt-4.1-mini" needs OPENAI_API_KEY to be set on the server',
  },
];

describe.each(['/messages', '/messages/stream'])('POST …%s with bad input', (suffix) => {
  it.each(CASES)('$name → $status $code, nothing stored', async (testCase) => {
    const before = await dumpDatabase(context);
    const connection = await SseConnection.open(`${base}${testCase.path()}${suffix}`, {
      key: own.key,
      body: testCase.body(),
    });
    expect(connection.status).toBe(testCase.status);
    expect(connection.header('content-type')).toBe('application/json; charset=utf-8');
    expect(connection.received).toEqual([]);
    const body = connection.body;
    expect(body).toMatchObject({ code: testCase.code, request_id: connection.header('x-request-id') });
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'request_id']);
    if (testCase.loc) expect(body.detail.map((issue: { loc: unknown }) => issue.loc)).toEqual(testCase.loc);
    else expect(body.detail).toBe(testCase.detail);
    expect(await dumpDatabase(context)).toEqual(before);
  });
});

describe('the limits themselves are accepted', () => {
  it('content of exactly 32768 characters runs and is stored as sent', async () => {
    const content = 'y'.repeat(MAX_MESSAGE_CHARACTERS);
    const stream = await SseConnection.open(`${base}${threadPath(own)}/messages/stream`, {
      key: own.key,
      body: { role: 'user', content, agent_id: own.agentId.toUpperCase() },
    });
    expect(stream.status).toBe(200);
    const events = await stream.readToEnd();
    expect(events[1]!.data.message.content).toBe(content);
    expect(events.at(-1)).toMatchObject({
      event: 'run-end',
      data: { status: 'completed', message: { content: 'Fine.' } },
    });
    const { messages } = await expectStoredMatchesStream(own, events);
    expect(messages).toHaveLength(4);
    expect(messages[2].content).toBe(content);
  });
});
