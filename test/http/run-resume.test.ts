import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTools, registryWith, say, scriptedModel, type ScriptAction } from '../fixtures/scripted-model.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import {
  SseConnection,
  httpJson,
  pollUntil,
  replayLog,
  storedExecution,
  storedMessages,
  threadPath,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * A run can stop at a step boundary and go on later from what is stored: the precondition for
 * tool approval and queued executions. Nothing of the run stays in memory between the two.
 */

// The first model call waits a moment, so the test can ask for the pause before the boundary.
const steps: ScriptAction[][] = [
  [{ type: 'wait', ms: 150 }, ...callTools({ name: 'calculator', input: { expression: '6 * 7' }, id: 'call_calc' })],
  say('It is 42.'),
];
const model = scriptedModel('scripted:resume', steps);

let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext({ models: registryWith(model), runtime: { sseKeepAliveMs: 100 } });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});

describe('a run stopped at a step boundary', () => {
  it('waits as a queued execution holding its thread, then resumes from stored state to the same reply', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ configuration: { model: model.id, tools: ['calculator'] } });
    const thread: ThreadRef = {
      base,
      key: organization.key,
      agentId: agent.id,
      threadId: (await api.createThread(agent.id)).id,
    };
    const stream = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
      key: thread.key,
      body: { role: 'user', content: 'What is six times seven?' },
    });
    const head = await stream.readUntil((event) => event.event === 'run-start');
    const runId = head.at(-1)!.data.run_id as string;
    const key = { organizationId: organization.organizationId, runId };
    expect(context.parley.runtime.pauseAtNextStep(key)).toBe(true);

    const paused = await pollUntil(
      async () => {
        const execution = await storedExecution(thread, runId);
        return execution.status === 'queued' && context.parley.runtime.activeRunCount === 0 ? execution : undefined;
      },
      { what: 'the run to stop at its step boundary' },
    );
    stream.abort();
    expect(paused).toMatchObject({ status: 'queued', completed_at: null, steps: [] });
    expect(model.requests).toHaveLength(1);
    // The reply is not half-visible: it is still empty, with the tool call it made.
    const [, reply] = await storedMessages(thread);
    expect(reply).toMatchObject({ role: 'assistant', content: '', metadata: { status: 'in_progress' } });
    const product = { expression: '6 * 7', result: 42 };
    expect(reply.tool_calls).toMatchObject([{ tool_name: 'calculator', result: product, error: null }]);
    // The thread stays its: a new question waits for it.
    const busy = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'Hello?',
    });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('thread_busy');

    const { completion } = await context.parley.runtime.resume(key);
    const result = await completion;
    expect(result.status).toBe('completed');
    expect(result.message).toMatchObject({ id: reply.id, content: 'It is 42.', created_at: reply.created_at });
    expect(result.message.tool_calls).toMatchObject([{ tool_name: 'calculator', result: product }]);
    // The second model call got the first call's tool call and result back from the checkpoint.
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]!.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          { type: 'tool-call', toolCallId: 'call_calc', toolName: 'calculator', input: { expression: '6 * 7' } },
        ],
      },
      { role: 'tool', toolCallId: 'call_calc', toolName: 'calculator', result: product, isError: false },
    ]);

    const execution = await storedExecution(thread, runId);
    expect(execution).toMatchObject({ status: 'completed', tool_calls_count: 1, tokens_used: 27 });
    expect(execution.steps.map((step: { step_id: string }) => step.step_id)).toEqual([
      'model-1',
      'tool-call_calc',
      'model-2',
    ]);
    const messages = await storedMessages(thread);
    expect(messages.map((message) => [message.role, message.content])).toEqual([
      ['user', 'What is six times seven?'],
      ['assistant', 'It is 42.'],
    ]);
    // One log, gapless, from the question to the end of the resumed run.
    const log = (await replayLog(thread, 8)).filter((event) => !event.id?.includes('.'));
    expect(log.map((event) => `${event.id} ${event.event}`)).toEqual([
      '1 message-start',
      '2 message-end',
      '3 run-start',
      '4 message-start',
      '5 tool-call-start',
      '6 tool-call-end',
      '7 message-end',
      '8 run-end',
    ]);

    // Nothing waits any more: a second resume is refused and the thread takes questions again.
    await expect(context.parley.runtime.resume(key)).rejects.toMatchObject({ code: 'run_not_found', status: 404 });
    const next = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'Thanks',
    });
    expect(next.status).toBe(200);
  });
});
