import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '../../src/tools/tool.js';
import { BUILTIN_TOOLS } from '../../src/tools/builtin/index.js';
import { APPROVAL_NOTE } from '../../src/runtime/model-loop.js';
import { callTools, growingRegistry, say, type ScriptedModel } from '../fixtures/scripted-model.js';
import { readChat } from '../helpers/ai-sdk-chat.js';
import { client, createThreadRef, createTestContext, type TestContext } from '../helpers/harness.js';
import {
  SseConnection,
  pollUntil,
  replayLog,
  storedExecution,
  storedMessages,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * Tool approval (docs/adr/0015-tool-approval.md): a call of a `requiresApproval` tool stops its
 * run before it runs; the approve and reject routes — on any process, after a restart — decide
 * it and the run goes on; an unanswered request expires.
 */

const transfers: { amount: number; to: string }[] = [];
const wireMoney: Tool = {
  name: 'wire_money',
  description: 'Sends money to an account.',
  inputSchema: {
    type: 'object',
    properties: { amount: { type: 'number', minimum: 1 }, to: { type: 'string' } },
    required: ['amount', 'to'],
    additionalProperties: false,
  },
  requiresApproval: true,
  async execute(input) {
    const transfer = { amount: input.amount as number, to: input.to as string };
    transfers.push(transfer);
    return { sent: transfer.amount, to: transfer.to };
  },
};
const tools = new Map<string, Tool>([...BUILTIN_TOOLS, [wireMoney.name, wireMoney]]);

const models = growingRegistry('tool-approval');
const APPROVAL_TIMEOUT_MS = 60_000;
let clockOffsetMs = 0;
const clock = { now: () => new Date(Date.now() + clockOffsetMs) };

let context: TestContext;
let base: string;
beforeAll(async () => {
  context = await createTestContext({
    models: models.registry,
    tools,
    clock,
    runtime: { sseKeepAliveMs: 100, toolApprovalTimeoutMs: APPROVAL_TIMEOUT_MS },
  });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
});

const wire = (input: Record<string, unknown>, id = 'call_wire') => ({ name: 'wire_money', input, id });

/** A thread of an agent with `wire_money` and the calculator, answering with `model`. */
async function newThread(model: ScriptedModel): Promise<ThreadRef & { organizationId: string }> {
  return createThreadRef(context, { base, configuration: { model: model.id, tools: ['wire_money', 'calculator'] } });
}

const decisionPath = (thread: ThreadRef, runId: string, callId: string, decision: 'approve' | 'reject') =>
  `${threadPath(thread)}/runs/${runId}/tool-calls/${callId}/${decision}`;

/** Posts a question over real HTTP and reads its stream up to the approval requests. */
async function askUntilApproval(thread: ThreadRef, content: string, requests = 1) {
  const stream = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
    key: thread.key,
    body: { role: 'user', content },
  });
  const head: SseEvent[] = [];
  for (let seen = 0; seen < requests;) {
    const event = await stream.next();
    if (!event) throw new Error('the stream ended before its approval requests');
    head.push(event);
    if (event.event === 'tool-approval-request') seen += 1;
  }
  const runId = head.find((event) => event.event === 'run-start')!.data.run_id as string;
  // The request is durable before it is sent: the run is stored as waiting already.
  await pollUntil(() => (context.parley.runtime.activeRunCount === 0 ? true : undefined), { what: 'the run to stop' });
  return { stream, head, runId };
}

describe('a call of a tool that needs approval', () => {
  it('waits, stored, until it is approved; then runs and the stream goes on to the end', async () => {
    const model = models.script([callTools(wire({ amount: 25, to: 'alice' })), say('Sent 25 to alice.')]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { stream, head, runId } = await askUntilApproval(thread, 'Pay alice 25');

    const request = head.at(-1)!;
    const expiresAt = request.data.expires_at as string;
    expect(request).toMatchObject({
      event: 'tool-approval-request',
      data: {
        type: 'tool-approval-request',
        run_id: runId,
        step: 1,
        tool_call_id: 'call_wire',
        tool_name: 'wire_money',
        arguments: { amount: 25, to: 'alice' },
      },
    });
    expect(head.map((event) => event.event)).not.toContain('tool-call-start');
    // The model was told which tool waits for a person.
    const described = model.requests[0]!.tools.find((tool) => tool.name === 'wire_money');
    expect(described?.description).toBe(`Sends money to an account. ${APPROVAL_NOTE}`);
    expect(model.requests[0]!.tools.find((tool) => tool.name === 'calculator')?.description).not.toContain(
      APPROVAL_NOTE,
    );

    // Stored: the run waits (`pending`) with the pending call, the reply says what it waits for.
    const waiting = await storedExecution(thread, runId);
    expect(waiting).toMatchObject({ status: 'pending', completed_at: null });
    expect(waiting.steps.map((step: any) => [step.step_id, step.status, step.metadata])).toEqual([
      ['model-1', 'completed', { input_tokens: 10, output_tokens: 2 }],
      ['tool-call_wire', 'pending', { approval: 'pending', expires_at: expiresAt }],
    ]);
    const [, reply] = await storedMessages(thread);
    expect(reply.metadata).toEqual({
      run_id: runId,
      model: model.id,
      status: 'awaiting_approval',
      pending_approvals: [
        {
          tool_call_id: 'call_wire',
          tool_name: 'wire_money',
          arguments: { amount: 25, to: 'alice' },
          expires_at: expiresAt,
        },
      ],
    });
    expect(reply.tool_calls).toMatchObject([
      { tool_name: 'wire_money', arguments: { amount: 25, to: 'alice' }, result: null, error: null, end_time: null },
    ]);
    expect(transfers).not.toContainEqual({ amount: 25, to: 'alice' });

    // The stream of the waiting run stays open (keep-alives) and goes on when it is approved.
    const approved = await api.post(decisionPath(thread, runId, 'call_wire', 'approve'), {});
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({
      run_id: runId,
      tool_call_id: 'call_wire',
      decision: 'approved',
      run_status: 'running',
    });
    const rest = await stream.readUntil((event) => event.event === 'run-end');
    expect(rest.filter((event) => event.event?.startsWith('tool-')).map((event) => [event.event, event.data])).toEqual([
      [
        'tool-call-start',
        expect.objectContaining({ tool_call_id: 'call_wire', step: 1, arguments: { amount: 25, to: 'alice' } }),
      ],
      [
        'tool-call-end',
        expect.objectContaining({
          tool_call_id: 'call_wire',
          approval: 'approved',
          result: { sent: 25, to: 'alice' },
          error: null,
        }),
      ],
    ]);
    expect(rest.at(-1)!.data).toMatchObject({ status: 'completed', message: { content: 'Sent 25 to alice.' } });
    expect(transfers).toContainEqual({ amount: 25, to: 'alice' });

    // The model's second request had the result; the stored state is that of a finished run.
    expect(model.requests[1]!.messages.at(-1)).toEqual({
      role: 'tool',
      toolCallId: 'call_wire',
      toolName: 'wire_money',
      result: { sent: 25, to: 'alice' },
      isError: false,
    });
    const execution = await storedExecution(thread, runId);
    expect(execution).toMatchObject({ status: 'completed', tool_calls_count: 1 });
    expect(execution.steps.map((step: any) => [step.step_id, step.status])).toEqual([
      ['model-1', 'completed'],
      ['tool-call_wire', 'completed'],
      ['model-2', 'completed'],
    ]);
    expect(execution.steps[1].metadata).toEqual({ approval: 'approved' });
    const [, finished] = await storedMessages(thread);
    expect(finished.metadata).toMatchObject({ status: 'completed', run_id: runId });
    expect(finished.metadata.pending_approvals).toBeUndefined();
    expect(finished.tool_calls).toMatchObject([
      {
        tool_name: 'wire_money',
        arguments: { amount: 25, to: 'alice' },
        result: { sent: 25, to: 'alice' },
        error: null,
      },
    ]);

    // A second decision is refused; the thread takes questions again.
    const again = await api.post(decisionPath(thread, runId, 'call_wire', 'reject'), { reason: 'too late' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'tool_call_already_decided' });
  });

  it('runs with edited arguments; edited arguments the schema refuses are a 422 that changes nothing', async () => {
    const model = models.script([callTools(wire({ amount: 500, to: 'bob' })), say('Done.')]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { stream, runId } = await askUntilApproval(thread, 'Pay bob 500');

    const invalid = await api.post(decisionPath(thread, runId, 'call_wire', 'approve'), {
      arguments: { amount: 0, to: 'bob' },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.code).toBe('validation_error');
    expect(invalid.body.detail).toEqual([
      {
        loc: ['body', 'arguments'],
        msg: 'Invalid arguments for wire_money: /amount must be >= 1',
        type: 'value_error',
      },
    ]);
    expect((await storedExecution(thread, runId)).status).toBe('pending');
    const [, unchanged] = await storedMessages(thread);
    expect(unchanged.tool_calls).toMatchObject([{ arguments: { amount: 500, to: 'bob' }, end_time: null }]);

    const approved = await api.post(decisionPath(thread, runId, 'call_wire', 'approve'), {
      arguments: { amount: 50, to: 'bob' },
    });
    expect(approved.status).toBe(200);
    const rest = await stream.readUntil((event) => event.event === 'run-end');
    const start = rest.find((event) => event.event === 'tool-call-start')!;
    expect(start.data.arguments).toEqual({ amount: 50, to: 'bob' });
    expect(transfers).toContainEqual({ amount: 50, to: 'bob' });
    expect(transfers).not.toContainEqual({ amount: 500, to: 'bob' });
    // The model's own call stays as it asked; the result is of the approved arguments.
    expect(model.requests[1]!.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          { type: 'tool-call', toolCallId: 'call_wire', toolName: 'wire_money', input: { amount: 500, to: 'bob' } },
        ],
      },
      {
        role: 'tool',
        toolCallId: 'call_wire',
        toolName: 'wire_money',
        result: { sent: 50, to: 'bob' },
        isError: false,
      },
    ]);
    const [, reply] = await storedMessages(thread);
    expect(reply.tool_calls).toMatchObject([{ arguments: { amount: 50, to: 'bob' }, result: { sent: 50, to: 'bob' } }]);
  });

  it('rejected with a reason: never runs, the model gets the refusal, the call is stored as rejected', async () => {
    const model = models.script([callTools(wire({ amount: 9000, to: 'mallory' })), say('Understood, not sent.')]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { stream, runId } = await askUntilApproval(thread, 'Pay mallory 9000');

    const rejected = await api.post(decisionPath(thread, runId, 'call_wire', 'reject'), {
      reason: 'Not a known payee',
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toEqual({
      run_id: runId,
      tool_call_id: 'call_wire',
      decision: 'rejected',
      run_status: 'running',
    });
    const rest = await stream.readUntil((event) => event.event === 'run-end');
    const refusal = 'Rejected by the user: Not a known payee';
    const toolEvents = rest.filter((event) => event.event?.startsWith('tool-'));
    expect(toolEvents.map((event) => event.event)).toEqual(['tool-call-end']);
    expect(toolEvents[0]!.data).toMatchObject({ approval: 'rejected', error: refusal, result: null });
    expect(transfers).not.toContainEqual({ amount: 9000, to: 'mallory' });
    expect(model.requests[1]!.messages.at(-1)).toEqual({
      role: 'tool',
      toolCallId: 'call_wire',
      toolName: 'wire_money',
      result: refusal,
      isError: true,
    });

    const [, reply] = await storedMessages(thread);
    expect(reply).toMatchObject({ content: 'Understood, not sent.', metadata: { status: 'completed' } });
    expect(reply.tool_calls).toEqual([
      {
        tool_name: 'wire_money',
        arguments: { amount: 9000, to: 'mallory' },
        result: null,
        error: refusal,
        start_time: expect.any(String),
        end_time: expect.any(String),
      },
    ]);
    const execution = await storedExecution(thread, runId);
    expect(execution.status).toBe('completed');
    expect(execution.steps[1]).toMatchObject({
      step_id: 'tool-call_wire',
      status: 'cancelled',
      error_message: refusal,
      metadata: { approval: 'rejected', reason: 'Not a known payee' },
    });
    const stored = await context.store.runMessages.runToolCalls({ organizationId: thread.organizationId, runId });
    expect(stored.map((call) => [call.status, call.approval?.decision, call.approval?.reason])).toEqual([
      ['rejected', 'rejected', 'Not a known payee'],
    ]);
  });

  it('several calls in one step: every request is sent, the run goes on once all are decided', async () => {
    const model = models.script([
      callTools(
        wire({ amount: 1, to: 'carol' }, 'call_a'),
        { name: 'calculator', input: { expression: '2 + 2' }, id: 'call_calc' },
        wire({ amount: 2, to: 'dave' }, 'call_b'),
      ),
      say('Both handled.'),
    ]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { stream, head, runId } = await askUntilApproval(thread, 'Pay carol and dave', 2);
    const requests = head.filter((event) => event.event === 'tool-approval-request');
    expect(requests.map((event) => event.data.tool_call_id)).toEqual(['call_a', 'call_b']);

    const first = await api.post(decisionPath(thread, runId, 'call_a', 'approve'), {});
    expect(first.body).toMatchObject({ decision: 'approved', run_status: 'pending' });
    expect((await storedExecution(thread, runId)).status).toBe('pending');
    const [, waiting] = await storedMessages(thread);
    expect(waiting.metadata.pending_approvals.map((call: any) => call.tool_call_id)).toEqual(['call_b']);
    expect(model.requests).toHaveLength(1);

    const second = await api.post(decisionPath(thread, runId, 'call_b', 'reject'), {});
    expect(second.body).toMatchObject({ decision: 'rejected', run_status: 'running' });
    const rest = await stream.readUntil((event) => event.event === 'run-end');
    expect(rest.at(-1)!.data.status).toBe('completed');
    // The step's results reach the model in the order it asked for the calls.
    expect(model.requests[1]!.messages.slice(-3)).toEqual([
      { role: 'tool', toolCallId: 'call_a', toolName: 'wire_money', result: { sent: 1, to: 'carol' }, isError: false },
      {
        role: 'tool',
        toolCallId: 'call_calc',
        toolName: 'calculator',
        result: { expression: '2 + 2', result: 4 },
        isError: false,
      },
      { role: 'tool', toolCallId: 'call_b', toolName: 'wire_money', result: 'Rejected by the user.', isError: true },
    ]);
    const [, reply] = await storedMessages(thread);
    expect(reply.tool_calls.map((call: any) => [call.tool_name, call.error])).toEqual([
      ['wire_money', null],
      ['wire_money', 'Rejected by the user.'],
      ['calculator', null],
    ]);
  });
});

describe('cancelling a run that waits for approval', () => {
  it('rejects what it waits on as cancelled and ends the run cancelled, without calling the model again', async () => {
    const model = models.script([callTools(wire({ amount: 40, to: 'bob' })), say('Never said.')]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { stream, runId, head } = await askUntilApproval(thread, 'Pay bob 40');
    const messageId = head.find((event) => event.event === 'run-start')!.data.message_id;

    const cancelled = await api.post(`${threadPath(thread)}/runs/${runId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ run_id: runId, status: 'cancelling', message_id: messageId });
    const rest = await stream.readUntil((event) => event.event === 'run-end');
    expect(rest.at(-1)!.data).toMatchObject({ run_id: runId, status: 'cancelled', finish_reason: 'cancelled' });
    expect(model.requests).toHaveLength(1);
    expect(transfers).not.toContainEqual({ amount: 40, to: 'bob' });

    const [, reply] = await storedMessages(thread);
    expect(reply.metadata.status).toBe('cancelled');
    expect(reply.tool_calls).toEqual([
      expect.objectContaining({ tool_name: 'wire_money', result: null, error: 'Rejected by the user: cancelled' }),
    ]);
    expect((await storedExecution(thread, runId)).status).toBe('cancelled');
    // Nothing waits any more: a second cancel and a late decision find no active run.
    const again = await api.post(`${threadPath(thread)}/runs/${runId}/cancel`, {});
    expect([again.status, again.body.code]).toEqual([409, 'run_not_active']);
    const late = await api.post(decisionPath(thread, runId, 'call_wire', 'approve'), {});
    expect(late.status).toBe(409);
    expect(context.parley.runtime.activeRunCount).toBe(0);
  });
});

describe('deciding', () => {
  it('is for the run’s own organisation and a write key: 404 elsewhere, 403 for a read key, 404 for unknown ids', async () => {
    const model = models.script([callTools(wire({ amount: 3, to: 'erin' })), say('Ok.')]);
    const thread = await newThread(model);
    const { stream, runId } = await askUntilApproval(thread, 'Pay erin 3');
    const path = decisionPath(thread, runId, 'call_wire', 'approve');

    const stranger = await context.newOrganization();
    const foreign = await client(context, stranger.key).post(path, {});
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 'run_not_found', detail: 'Run not found.' });
    const organization = { key: thread.key };
    const readKey = await (await context.newOrganization()).keyWith(['read']);
    expect((await client(context, readKey).post(path, {})).status).toBe(403);
    const api = client(context, organization.key);
    const unknownCall = await api.post(decisionPath(thread, runId, 'call_other', 'approve'), {});
    expect(unknownCall.status).toBe(404);
    expect(unknownCall.body.code).toBe('tool_call_not_found');
    const unknownRun = await api.post(decisionPath(thread, crypto.randomUUID(), 'call_wire', 'reject'), {});
    expect(unknownRun.status).toBe(404);
    expect(unknownRun.body.code).toBe('run_not_found');
    const tooLong = await api.post(decisionPath(thread, runId, 'call_wire', 'reject'), { reason: 'x'.repeat(2001) });
    expect(tooLong.status).toBe(422);
    // None of that changed anything.
    expect((await storedExecution(thread, runId)).status).toBe('pending');

    // Without a body at all.
    const approved = await api.request('POST', path);
    expect(approved.status).toBe(200);
    expect((await stream.readUntil((event) => event.event === 'run-end')).at(-1)!.data.status).toBe('completed');
  });

  it('an unanswered request expires on the sweep: rejected as expired, and the run goes on', async () => {
    const model = models.script([callTools(wire({ amount: 4, to: 'frank' })), say('It expired.')]);
    const thread = await newThread(model);
    const { stream, runId } = await askUntilApproval(thread, 'Pay frank 4');
    await context.parley.liveness.tick();
    expect((await storedExecution(thread, runId)).status).toBe('pending');

    clockOffsetMs += APPROVAL_TIMEOUT_MS;
    try {
      await context.parley.liveness.tick();
    } finally {
      clockOffsetMs -= APPROVAL_TIMEOUT_MS;
    }
    const rest = await stream.readUntil((event) => event.event === 'run-end');
    const expired = 'Rejected: nobody approved this tool call in time (its approval request expired).';
    expect(rest.find((event) => event.event === 'tool-call-end')!.data).toMatchObject({
      approval: 'rejected',
      error: expired,
    });
    expect(model.requests[1]!.messages.at(-1)).toMatchObject({ role: 'tool', result: expired, isError: true });
    const execution = await storedExecution(thread, runId);
    expect(execution.status).toBe('completed');
    expect(execution.steps[1]).toMatchObject({
      status: 'cancelled',
      metadata: { approval: 'rejected', reason: 'expired' },
    });
  });

  it('a decision after the deadline is a 409 tool_approval_expired, and the call is rejected as expired', async () => {
    const model = models.script([callTools(wire({ amount: 5, to: 'grace' })), say('Too late.')]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { stream, runId } = await askUntilApproval(thread, 'Pay grace 5');
    clockOffsetMs += APPROVAL_TIMEOUT_MS;
    let late;
    try {
      late = await api.post(decisionPath(thread, runId, 'call_wire', 'approve'), {});
    } finally {
      clockOffsetMs -= APPROVAL_TIMEOUT_MS;
    }
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'tool_approval_expired' });
    expect((await stream.readUntil((event) => event.event === 'run-end')).at(-1)!.data.status).toBe('completed');
    expect(transfers).not.toContainEqual({ amount: 5, to: 'grace' });
    const [, reply] = await storedMessages(thread);
    expect(reply.tool_calls[0].error).toBe(
      'Rejected: nobody approved this tool call in time (its approval request expired).',
    );
  });

  it('goes on after a restart, and on another process sharing the database', async () => {
    const model = models.script([callTools(wire({ amount: 6, to: 'heidi' })), say('Sent after the restart.')]);
    // The run starts on a process that then stops while it waits…
    const first = await context.peer();
    const firstBase = await first.listen();
    const thread = { ...(await newThread(model)), base: firstBase };
    const { stream, runId } = await askUntilApproval({ ...thread }, 'Pay heidi 6');
    stream.abort();
    await first.close();
    expect((await storedExecution({ ...thread, base }, runId)).status).toBe('pending');

    // …and the approval reaches another one, which runs the rest from what is stored.
    const second = await context.peer();
    const secondBase = await second.listen();
    const approved = await SseConnection.open(`${secondBase}${decisionPath(thread, runId, 'call_wire', 'approve')}`, {
      key: thread.key,
      body: {},
    });
    expect(approved.status).toBe(200);
    const elsewhere = { ...thread, base: secondBase };
    const finished = await pollUntil(
      async () => {
        const execution = await storedExecution(elsewhere, runId);
        return execution.status === 'completed' ? execution : undefined;
      },
      { what: 'the run to finish on the second process' },
    );
    expect(finished.steps.map((step: any) => step.step_id)).toEqual(['model-1', 'tool-call_wire', 'model-2']);
    expect(transfers).toContainEqual({ amount: 6, to: 'heidi' });
    const log = (await replayLog(elsewhere, 9)).filter((event) => !event.id?.includes('.'));
    expect(log.map((event) => event.event)).toEqual([
      'message-start',
      'message-end',
      'run-start',
      'message-start',
      'tool-approval-request',
      'tool-call-start',
      'tool-call-end',
      'message-end',
      'run-end',
    ]);
    const [, reply] = await storedMessages(elsewhere);
    expect(reply).toMatchObject({ content: 'Sent after the restart.', metadata: { status: 'completed' } });
    // The first process's peer sees a second decision as already made.
    const again = await client(context, thread.key).post(decisionPath(thread, runId, 'call_wire', 'approve'), {});
    expect(again.status).toBe(409);
    await second.close();
  });
});

describe('the AI SDK view', () => {
  function transportOf(thread: ThreadRef): DefaultChatTransport<UIMessage> {
    return new DefaultChatTransport<UIMessage>({
      api: `${base}/api/v1/chat/${thread.agentId}/ui-messages`,
      headers: { 'x-api-key': thread.key },
    });
  }

  async function chatUntilDecided(thread: ThreadRef, decide: (runId: string) => Promise<unknown>) {
    const stream: ReadableStream<UIMessageChunk> = await transportOf(thread).sendMessages({
      chatId: thread.threadId,
      messageId: undefined,
      trigger: 'submit-message',
      abortSignal: AbortSignal.timeout(10_000),
      messages: [{ id: 'local-1', role: 'user', parts: [{ type: 'text', text: 'Pay ivan 7' }] }],
    });
    const reading = readChat(stream);
    const runId = await pollUntil(async () => {
      const [, reply] = await storedMessages(thread);
      return reply?.metadata.status === 'awaiting_approval' ? (reply.metadata.run_id as string) : undefined;
    });
    await decide(runId);
    return reading;
  }

  it('sends the SDK’s own tool-approval-request chunk, which its reader accepts; approval ends in the output', async () => {
    const model = models.script([callTools(wire({ amount: 7, to: 'ivan' })), say('Paid.')]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { chunks, last } = await chatUntilDecided(thread, (runId) =>
      api.post(decisionPath(thread, runId, 'call_wire', 'approve'), {}),
    );
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      'start',
      'start-step',
      'tool-input-available',
      'tool-approval-request',
      'tool-input-available',
      'tool-output-available',
      'finish-step',
      'start-step',
      'text-start',
      'text-delta',
      'text-end',
      'finish-step',
      'finish',
    ]);
    expect(chunks[3]).toEqual({ type: 'tool-approval-request', approvalId: 'call_wire', toolCallId: 'call_wire' });
    expect(last.parts.find((part) => part.type === 'tool-wire_money')).toMatchObject({
      state: 'output-available',
      toolCallId: 'call_wire',
      input: { amount: 7, to: 'ivan' },
      output: { sent: 7, to: 'ivan' },
      approval: { id: 'call_wire' },
    });
  });

  it('a rejected call is tool-output-denied', async () => {
    const model = models.script([callTools(wire({ amount: 8, to: 'judy' })), say('Not paid.')]);
    const thread = await newThread(model);
    const api = client(context, thread.key);
    const { chunks, last } = await chatUntilDecided(thread, (runId) =>
      api.post(decisionPath(thread, runId, 'call_wire', 'reject'), { reason: 'no' }),
    );
    expect(chunks.map((chunk) => chunk.type).slice(2, 5)).toEqual([
      'tool-input-available',
      'tool-approval-request',
      'tool-output-denied',
    ]);
    expect(last.parts.find((part) => part.type === 'tool-wire_money')).toMatchObject({
      state: 'output-denied',
      toolCallId: 'call_wire',
    });
  });
});
