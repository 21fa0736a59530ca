import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/models/model-port.js';
import { growingRegistry, say, type ScriptAction } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { createFlow, eventually, execute, waitForExecution } from '../helpers/flows.js';
import { expectError } from '../helpers/routes.js';

/**
 * Running flows (docs/flows.md): POST /flows/execute enqueues the execution with its job; the
 * worker runs the agent's model with the flow's tools and records steps, tokens, cost and the
 * final output; schedules, timeouts, retries as new executions, output schemas and cancel.
 */
const models = growingRegistry('flow-executions');
// The clock runs with real time plus `shift`, so a test can move past a `scheduled_at`.
let shift = 0;
let context: TestContext;
let api: Api;

beforeAll(async () => {
  context = await createTestContext({
    models: models.registry,
    clock: { now: () => new Date(Date.now() + shift) },
    pricing: { 'scripted:*': { input: 1000, output: 2000 } },
  });
  api = client(context, (await context.newOrganization()).key);
});
afterAll(() => context?.close());

/** An agent on `model` (default: the offline demo) with the calculator, and a flow of it. */
async function flowOn(flow: Record<string, unknown> = {}, model = 'demo') {
  const agent = await api.createAgent({ configuration: { model, tools: ['calculator'], max_steps: 4 } });
  return { agentId: agent.id, flow: await createFlow(api, agent.id, flow) };
}

const scripted = (steps: ScriptAction[][]) => models.script(steps);

describe('POST /api/v1/flows/execute', () => {
  it('runs the flow with the demo model and its tools: steps, tokens, tool calls, final output', async () => {
    const { flow, agentId } = await flowOn({
      instructions: 'What is {{a}} + {{b}}?',
      variables: [
        { name: 'a', type: 'number', required: true },
        { name: 'b', type: 'number', required: false, default: 5 },
      ],
      tools: ['calculator'],
    });
    const response = await api.post('/api/v1/flows/execute', {
      flow_id: flow.id,
      trigger_type: 'api',
      variables: { a: 37 },
    });
    expect(response.status).toBe(200);
    expect(response.body.message).toBe('Flow execution queued');
    expect(response.body.execution).toMatchObject({
      flow_id: flow.id,
      agent_id: agentId,
      execution_number: 1,
      trigger_type: 'api',
      priority: 'normal',
      variables: { a: 37, b: 5 },
      timeout_seconds: 300,
      retry_count: 0,
      max_retries: 3,
      parent_execution_id: null,
    });
    expect(['queued', 'running', 'completed']).toContain(response.body.execution.status);
    const done = await waitForExecution(api, response.body.execution.id);
    expect(done.status).toBe('completed');
    expect(
      done.steps.map((step: { step_type: string; tool_name: string | null }) => [step.step_type, step.tool_name]),
    ).toEqual([
      ['llm', null],
      ['tool', 'calculator'],
      ['llm', null],
    ]);
    expect(done.steps[1]).toMatchObject({ status: 'completed', input_data: { expression: '37 + 5' } });
    expect(done.final_output.text).toContain('37 + 5 = 42');
    expect(done.tool_calls_count).toBe(1);
    expect(done.tokens_used).toBeGreaterThan(0);
    expect(done.cost_estimate).toBe(0);
    expect(done.completed_at).not.toBeNull();
    expect(done.duration_ms).toBeGreaterThanOrEqual(0);
    // A second execution of the flow is number 2.
    expect((await execute(api, flow.id, { variables: { a: 1 } })).execution_number).toBe(2);
  });

  it('gives the model only the flow’s tools, the agent’s configuration and the rendered task', async () => {
    const model = scripted([say('Done.', { inputTokens: 100, outputTokens: 50 })]);
    const { flow } = await flowOn(
      { instructions: 'Report on {{topic}}.', variables: [{ name: 'topic', type: 'string' }] },
      model.id,
    );
    const done = await waitForExecution(api, (await execute(api, flow.id, { variables: { topic: 'otters' } })).id);
    expect(done).toMatchObject({
      status: 'completed',
      final_output: { text: 'Done.' },
      tokens_used: 150,
      tool_calls_count: 0,
    });
    // 100 input and 50 output tokens at $1000 / $2000 per million.
    expect(done.cost_estimate).toBeCloseTo(0.2, 10);
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0]!.tools).toEqual([]);
    expect(model.requests[0]!.messages).toEqual([{ role: 'user', content: 'Report on otters.' }]);
  });

  it.each([
    ['a missing required variable', {}, ['body', 'variables', 'topic'], 'missing'],
    ['a variable of the wrong type', { topic: 42 }, ['body', 'variables', 'topic'], 'string_type'],
    ['an unknown variable', { topic: 'x', colour: 'red' }, ['body', 'variables', 'colour'], 'extra_forbidden'],
  ])('refuses %s with 422 and stores nothing', async (_name, variables, loc, type) => {
    const { flow } = await flowOn({ variables: [{ name: 'topic', type: 'string', required: true }] });
    const response = await api.post('/api/v1/flows/execute', { flow_id: flow.id, trigger_type: 'api', variables });
    expect(response.status).toBe(422);
    expect(response.body.detail).toEqual([expect.objectContaining({ loc, type })]);
    expect((await api.get(`/api/v1/flows/executions?flow_id=${flow.id}`)).body.total_count).toBe(0);
  });

  it('replays an execute with the same Idempotency-Key: one execution', async () => {
    const { flow } = await flowOn();
    const headers = { 'idempotency-key': `execute-${flow.id}` };
    const body = { flow_id: flow.id, trigger_type: 'manual' };
    const first = await api.post('/api/v1/flows/execute', body, headers);
    const second = await api.post('/api/v1/flows/execute', body, headers);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.execution.id).toBe(first.body.execution.id);
    await waitForExecution(api, first.body.execution.id);
    expect((await api.get(`/api/v1/flows/executions?flow_id=${flow.id}`)).body.total_count).toBe(1);
  });

  it('refuses with 429 quota_exceeded before any model call when the budget is spent', async () => {
    const organization = await context.newOrganization();
    const own = client(context, organization.key);
    const model = scripted([say('Spent.', { inputTokens: 10, outputTokens: 5 })]);
    const agent = await own.createAgent({ configuration: { model: model.id } });
    const flow = await createFlow(own, agent.id);
    await waitForExecution(own, (await execute(own, flow.id)).id);
    expect((await own.put('/api/v1/quota', { period: 'day', max_tokens: 10 })).status).toBe(200);
    const refused = await own.post('/api/v1/flows/execute', { flow_id: flow.id, trigger_type: 'api' });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('quota_exceeded');
    expect(model.requests).toHaveLength(1);
    expect((await own.get(`/api/v1/flows/executions?flow_id=${flow.id}`)).body.total_count).toBe(1);
  });
});

describe('scheduled executions', () => {
  it('does not run before scheduled_at, then runs once it has passed', async () => {
    const model = scripted([say('On time.')]);
    const { flow } = await flowOn({}, model.id);
    const at = new Date(Date.now() + shift + 3_600_000).toISOString();
    const response = await api.post('/api/v1/flows/execute', {
      flow_id: flow.id,
      trigger_type: 'scheduled',
      scheduled_at: at,
    });
    expect(response.body.message).toBe(`Flow execution scheduled for ${at}`);
    expect(response.body.execution).toMatchObject({ status: 'pending', started_at: at });
    // The worker looks now, and finds nothing due.
    context.parley.jobs.wake();
    await execute(api, (await flowOn()).flow.id).then((other) => waitForExecution(api, other.id));
    expect((await api.get(`/api/v1/flows/executions/${response.body.execution.id}`)).body.status).toBe('pending');
    expect(model.requests).toHaveLength(0);
    shift += 3_700_000;
    context.parley.jobs.wake();
    const done = await waitForExecution(api, response.body.execution.id);
    expect(done.status).toBe('completed');
    expect(model.requests).toHaveLength(1);
  });
});

describe('timeouts and retries', () => {
  it('ends an execution that outruns timeout_seconds as `timeout`', async () => {
    const { flow } = await flowOn({}, scripted([[{ type: 'hang' }]]).id);
    const done = await waitForExecution(api, (await execute(api, flow.id, { timeout_seconds: 1 })).id);
    expect(done).toMatchObject({ status: 'timeout', error_message: 'The run did not finish in time' });
    expect(done.error_details).toEqual({ code: 'run_timeout' });
  });

  it('retries a failure as new executions chained by parent_execution_id, up to max_retries', async () => {
    const failing = scripted([[{ type: 'throw', error: new ModelError('provider_error', 'the provider is down') }]]);
    const { flow } = await flowOn({}, failing.id);
    const retry_config = {
      max_retries: 2,
      backoff: 'fixed',
      initial_delay_ms: 0,
      max_delay_ms: 0,
      retry_on: ['failed'],
    };
    const first = await execute(api, flow.id, { retry_config, priority: 'high' });
    expect(first.max_retries).toBe(2);
    await eventually(
      async () => (await api.get(`/api/v1/flows/executions?flow_id=${flow.id}&status=failed`)).body.total_count === 3,
      'three failed executions',
    );
    const chain = (await api.get(`/api/v1/flows/executions?flow_id=${flow.id}`)).body.executions.reverse();
    expect(chain).toHaveLength(3);
    expect(
      chain.map((execution: any) => [execution.retry_count, execution.parent_execution_id, execution.priority]),
    ).toEqual([
      [0, null, 'high'],
      [1, chain[0].id, 'high'],
      [2, chain[1].id, 'high'],
    ]);
    expect(chain[2]).toMatchObject({
      status: 'failed',
      error_message: 'the provider is down',
      error_details: { code: 'model_error' },
    });
    expect(failing.requests).toHaveLength(3);
  });

  it('does not retry a status that retry_on does not list', async () => {
    const { flow } = await flowOn(
      {},
      scripted([[{ type: 'throw', error: new ModelError('provider_error', 'down') }]]).id,
    );
    const retry_config = {
      max_retries: 3,
      backoff: 'fixed',
      initial_delay_ms: 0,
      max_delay_ms: 0,
      retry_on: ['timeout'],
    };
    const done = await waitForExecution(api, (await execute(api, flow.id, { retry_config })).id);
    expect(done.status).toBe('failed');
    // The worker has ended the job that ended it; a retry would be in the same transaction.
    expect((await api.get(`/api/v1/flows/executions?flow_id=${flow.id}`)).body.total_count).toBe(1);
  });
});

describe('output_schema', () => {
  const output_schema = {
    type: 'object',
    properties: { city: { type: 'string' }, population: { type: 'integer' } },
    required: ['city', 'population'],
    additionalProperties: false,
  };

  it('parses a conforming answer into final_output', async () => {
    const model = scripted([say('{"city": "Lyon", "population": 522000}')]);
    const { flow } = await flowOn({ output_schema }, model.id);
    const done = await waitForExecution(api, (await execute(api, flow.id)).id);
    expect(done).toMatchObject({ status: 'completed', final_output: { city: 'Lyon', population: 522000 } });
    expect(model.requests[0]!.messages[0]).toMatchObject({
      role: 'user',
      content: expect.stringContaining('"population"'),
    });
  });

  it('feeds a non-conforming answer back once and takes the corrected one', async () => {
    const model = scripted([say('{"city": "Lyon"}'), say('{"city": "Lyon", "population": 522000}')]);
    const { flow } = await flowOn({ output_schema }, model.id);
    const done = await waitForExecution(api, (await execute(api, flow.id)).id);
    expect(done).toMatchObject({ status: 'completed', final_output: { city: 'Lyon', population: 522000 } });
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]!.messages.slice(1)).toEqual([
      { role: 'assistant', content: '{"city": "Lyon"}' },
      { role: 'user', content: expect.stringContaining("must have required property 'population'") },
    ]);
    expect(done.steps.filter((step: { step_type: string }) => step.step_type === 'llm')).toHaveLength(2);
  });

  it('fails the execution, naming the errors, when the retry does not conform either', async () => {
    const model = scripted([say('Lyon, about half a million.'), say('{"city": 7}')]);
    const { flow } = await flowOn({ output_schema }, model.id);
    const done = await waitForExecution(api, (await execute(api, flow.id)).id);
    expect(done.status).toBe('failed');
    expect(done.final_output).toBeNull();
    expect(done.error_details).toMatchObject({
      code: 'output_schema_mismatch',
      attempts: 2,
      answer: '{"city": 7}',
      validation_errors: expect.arrayContaining(['/city must be string', "/ must have required property 'population'"]),
    });
    expect(model.requests).toHaveLength(2);
  });
});

describe('POST /api/v1/flows/executions/{id}/cancel', () => {
  it('cancels a waiting execution at once: it never runs', async () => {
    const model = scripted([say('Never.')]);
    const { flow } = await flowOn({}, model.id);
    const at = new Date(Date.now() + shift + 60_000).toISOString();
    const waiting = await execute(api, flow.id, { scheduled_at: at });
    const cancelled = await api.post(`/api/v1/flows/executions/${waiting.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', completed_at: expect.any(String) });
    shift += 120_000;
    context.parley.jobs.wake();
    await waitForExecution(api, (await execute(api, (await flowOn()).flow.id)).id);
    expect((await api.get(`/api/v1/flows/executions/${waiting.id}`)).body.status).toBe('cancelled');
    expect(model.requests).toHaveLength(0);
    expectError(await api.post(`/api/v1/flows/executions/${waiting.id}/cancel`, {}), 409, 'flow_execution_finished');
  });

  it('stops a running execution: it ends cancelled, with the steps it got to', async () => {
    const model = scripted([[{ type: 'hang' }]]);
    const { flow } = await flowOn({}, model.id);
    const running = await execute(api, flow.id);
    await waitForExecution(api, running.id, (execution) => execution.status === 'running');
    await eventually(() => model.requests.length === 1, 'the model call');
    const cancelled = await api.post(`/api/v1/flows/executions/${running.id}/cancel`, {});
    expect(cancelled.body.status).toBe('cancelled');
    // The handler stops and adds its figures (duration, performance metrics) to the cancelled row.
    const ended = await waitForExecution(api, running.id, (execution) => execution.duration_ms !== null);
    expect(ended).toMatchObject({ status: 'cancelled', final_output: null, performance_metrics: { model_calls: 0 } });
  });

  it('refuses a chat run (409) and another organisation’s execution (404)', async () => {
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, { role: 'user', content: 'Hi' });
    const run = (await api.get(`/api/v1/flows/executions?agent_id=${agent.id}`)).body.executions[0];
    expect(run).toMatchObject({ trigger_type: 'api', flow_id: agent.id });
    expectError(await api.post(`/api/v1/flows/executions/${run.id}/cancel`, {}), 409, 'flow_execution_not_cancellable');
    const other = client(context, (await context.newOrganization()).key);
    expectError(await other.post(`/api/v1/flows/executions/${run.id}/cancel`, {}), 404, 'flow_execution_not_found');
  });
});
