import type http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext, type TestPeer } from '../helpers/harness.js';
import { createFlow, eventually, execute, waitForExecution } from '../helpers/flows.js';
import { startHttpFixture, type ReceivedRequest } from '../helpers/http-fixture.js';

/**
 * A flow's execution whose attempt stops mid-run (its worker's process goes away) is resumed
 * from its journal (src/features/flows/flow-journal.ts) by the next claim: the model goes on
 * after the last completed tool result, and a tool call that had completed is not made again —
 * the counting upstream sees it once. The call in flight at the stop is made again (at least
 * once). This app only serves the API; peers on the same database run the jobs, one at a time.
 */
const models = growingRegistry('flow-journal');
const workerJobs = { ...loadConfig({}).jobs, workerConcurrency: 1 };
let context: TestContext;
let peer: TestPeer | undefined;

/** `/count/<n>` answers `{n, seen}`; the paths in `holdFirst` leave their first request unanswered. */
const holdFirst = new Set<string>();
let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
function answer(request: ReceivedRequest, response: http.ServerResponse): void {
  const seen = upstream.received.filter((received) => received.url === request.url).length;
  if (holdFirst.has(request.url) && seen === 1) return;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ n: request.url.slice('/count/'.length), seen }));
}
const requestsTo = (path: string) => upstream.received.filter((received) => received.url === path).length;

beforeAll(async () => {
  upstream = await startHttpFixture(answer);
  context = await createTestContext({
    models: models.registry,
    jobs: { workerConcurrency: 0 },
    outboundAllow: '127.0.0.1',
  });
});
afterAll(async () => {
  await peer?.close();
  await context?.close();
  await upstream?.close();
});

async function replacePeer(): Promise<TestPeer> {
  await peer?.close();
  peer = await context.peer({ jobs: workerJobs });
  return peer;
}

/** An agent with the counting tool `count` and a flow that may use it, on `model`. */
async function countingFlow(api: Api, model: string, body: Record<string, unknown> = {}) {
  const agent = await api.createAgent({ configuration: { model, max_steps: 5 } });
  const tool = await api.post(`/api/v1/agents/${agent.id}/tools`, {
    tool_name: 'count',
    tool_type: 'external_tool',
    configuration: {
      description: 'Counts a call.',
      method: 'GET',
      url: `${upstream.origin}/count/{n}`,
      input_schema: { type: 'object', properties: { n: { type: 'string' } }, required: ['n'] },
    },
  });
  expect(tool.status, tool.raw).toBe(200);
  return createFlow(api, agent.id, { tools: ['count'], ...body });
}

it('resumes after the last completed tool call: a completed call is not made again', async () => {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const [first, second] = [`/count/a-${organization.keyId}`, `/count/b-${organization.keyId}`];
  holdFirst.add(second);
  const model = models.script([
    callTools({ name: 'count', input: { n: first.slice(7) }, id: 'call_a' }),
    callTools({ name: 'count', input: { n: second.slice(7) }, id: 'call_b' }),
    say('Counted twice.'),
  ]);
  const flow = await countingFlow(api, model.id);
  await replacePeer();
  const execution = await execute(api, flow.id);
  // Call a completed; call b is in flight (its upstream holds it) when the peer goes away.
  await eventually(() => requestsTo(second) === 1, 'the second tool call in the first peer');
  await peer!.close();
  peer = undefined;
  expect((await api.get(`/api/v1/flows/executions/${execution.id}`)).body.status).toBe('running');

  await replacePeer();
  const done = await waitForExecution(api, execution.id);
  expect(done).toMatchObject({ status: 'completed', final_output: { text: 'Counted twice.' }, tool_calls_count: 2 });
  // Call a once; call b, in flight at the stop, again (at least once); no model call repeated.
  expect([requestsTo(first), requestsTo(second)]).toEqual([1, 2]);
  expect(model.requests).toHaveLength(3);
  const steps = done.steps.map((step: { step_id: string; status: string }) => [step.step_id, step.status]);
  expect(steps).toEqual([
    ['model-1', 'completed'],
    ['tool-call_a', 'completed'],
    ['model-2', 'completed'],
    ['resume-1', 'completed'],
    ['tool-call_b', 'completed'],
    ['model-3', 'completed'],
  ]);
  const resume = done.steps[3];
  expect(resume).toMatchObject({
    step_type: 'resume',
    input_data: { next_step: 2, completed_tool_calls: 1 },
    output_data: { rerun_tool_calls: ['call_b'] },
  });
  // The third model call got the whole conversation: both calls and both results, the first as first made.
  const messages = model.requests[2]!.messages;
  expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool']);
  expect(messages[2]).toMatchObject({ toolCallId: 'call_a', result: { status: 200, body: { seen: 1 } } });
  expect(messages[4]).toMatchObject({ toolCallId: 'call_b', result: { status: 200, body: { seen: 2 } } });
  expect(done.performance_metrics).toMatchObject({ model_calls: 3, input_tokens: 30 });
  // The journal is cleared once the execution has ended; its steps keep what it held.
  const key = { organizationId: organization.organizationId, id: execution.id };
  expect(await context.store.flowExecutions.journal(key)).toBeNull();
});

it('writes no journal for an attempt whose fencing token is no longer the job’s', async () => {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const path = `/count/h-${organization.keyId}`;
  holdFirst.add(path);
  const model = models.script([callTools({ name: 'count', input: { n: path.slice(7) }, id: 'call_h' }), say('Ok.')]);
  const flow = await countingFlow(api, model.id);
  await replacePeer();
  const execution = await execute(api, flow.id);
  await eventually(() => requestsTo(path) === 1, 'the tool call in the peer');
  const key = { organizationId: organization.organizationId, id: execution.id };
  const running = await context.store.runs.get(key);
  const job = await context.store.jobs.get({ organizationId: organization.organizationId, id: running!.job_id! });
  const journal = await context.store.flowExecutions.journal(key);
  expect(journal).toMatchObject({ version: 1, next_step: 1, awaiting_calls: [{ toolCallId: 'call_h' }] });
  const write = (token: number) =>
    context.store.write((writers) =>
      writers.flowExecutions.journal({
        ...key,
        attempt: { jobId: job!.id, token },
        journal: {},
        now: '2026-01-01T00:00:00.000Z',
      }),
    );
  // A stale token (an attempt whose lease another claim took) writes nothing.
  expect(await write(job!.lease_token - 1)).toBe(false);
  expect(await write(job!.lease_token + 1)).toBe(false);
  expect(await context.store.flowExecutions.journal(key)).toEqual(journal);
  await peer!.close();
  peer = undefined;
  await replacePeer();
  const done = await waitForExecution(api, execution.id);
  expect(done).toMatchObject({ status: 'completed', final_output: { text: 'Ok.' }, tool_calls_count: 1 });
  expect(requestsTo(path)).toBe(2);
  expect(model.requests).toHaveLength(2);
});

it('resumes a step whose calls ran in parallel: only the call that had not ended runs again', async () => {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const [done1, held] = [`/count/x-${organization.keyId}`, `/count/y-${organization.keyId}`];
  holdFirst.add(held);
  const model = models.script([
    callTools(
      { name: 'count', input: { n: done1.slice(7) }, id: 'call_x' },
      { name: 'count', input: { n: held.slice(7) }, id: 'call_y' },
    ),
    say('Both counted.'),
  ]);
  const flow = await countingFlow(api, model.id);
  await replacePeer();
  const execution = await execute(api, flow.id);
  const key = { organizationId: organization.organizationId, id: execution.id };
  // Call x has ended and is journaled; call y is held by its upstream.
  await eventually(async () => {
    const journal = await context.store.flowExecutions.journal(key);
    return requestsTo(held) === 1 && journal?.tool_calls instanceof Array && journal.tool_calls.length === 1;
  }, 'call x journaled while call y is in flight');
  await peer!.close();
  peer = undefined;
  await replacePeer();
  const done = await waitForExecution(api, execution.id);
  expect(done).toMatchObject({ status: 'completed', final_output: { text: 'Both counted.' }, tool_calls_count: 2 });
  expect([requestsTo(done1), requestsTo(held)]).toEqual([1, 2]);
  expect(model.requests).toHaveLength(2);
  expect(done.steps.map((step: { step_id: string }) => step.step_id)).toEqual([
    'model-1',
    'tool-call_x',
    'resume-1',
    'tool-call_y',
    'model-2',
  ]);
  const messages = model.requests[1]!.messages;
  expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
  expect(messages.slice(2).map((message) => (message as { toolCallId: string }).toolCallId)).toEqual([
    'call_x',
    'call_y',
  ]);
});

it('resumes a flow with an output schema in its correction phase, with the correction it was sent', async () => {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const path = `/count/c-${organization.keyId}`;
  holdFirst.add(path);
  const model = models.script([
    say('Not JSON at all.'),
    callTools({ name: 'count', input: { n: path.slice(7) }, id: 'call_c' }),
    say('{"count": 1}'),
  ]);
  const flow = await countingFlow(api, model.id, {
    output_schema: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
  });
  await replacePeer();
  const execution = await execute(api, flow.id);
  await eventually(() => requestsTo(path) === 1, 'the correction’s tool call in the first peer');
  await peer!.close();
  peer = undefined;
  await replacePeer();
  const done = await waitForExecution(api, execution.id);
  expect(done).toMatchObject({ status: 'completed', final_output: { count: 1 }, tool_calls_count: 1 });
  expect(model.requests).toHaveLength(3);
  expect(done.steps.map((step: { step_id: string }) => step.step_id)).toEqual([
    'model-1',
    'model-2',
    'resume-1',
    'tool-call_c',
    'model-3',
  ]);
  // The resumed call went on with the correction's conversation: task, first answer, correction, call, result.
  const messages = model.requests[2]!.messages;
  expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'tool']);
  expect(messages[2]).toMatchObject({ content: expect.stringContaining('does not conform') });
});
