import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '../../src/tools/tool.js';
import { BUILTIN_TOOLS } from '../../src/tools/builtin/index.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { pollUntil } from '../helpers/sse-client.js';

/**
 * GET /api/v1/tool-calls: the audit list of an organisation's tool calls across its threads
 * (docs/tools.md, "Auditing tool calls"), over calls that real runs made with scripted models.
 */

const explode: Tool = {
  name: 'explode',
  description: 'Always fails.',
  inputSchema: { type: 'object', properties: {} },
  async execute() {
    throw new Error('the upstream is down');
  },
};
const wireMoney: Tool = {
  name: 'wire_money',
  description: 'Sends money to an account.',
  inputSchema: {
    type: 'object',
    properties: { amount: { type: 'number' }, to: { type: 'string' } },
    required: ['amount', 'to'],
  },
  requiresApproval: true,
  async execute(input) {
    return { sent: input.amount };
  },
};
const tools = new Map<string, Tool>([...BUILTIN_TOOLS, [explode.name, explode], [wireMoney.name, wireMoney]]);
const models = growingRegistry('tool-calls');

let context: TestContext;
let api: Api;
let otherApi: Api;
let calculatorAgent: string;
let paymentsAgent: string;
let otherAgent: string;
/** The rejected run's id: its call is listed with it. */
let rejectedRunId: string;

/** An agent of `caller` with these tools whose model plays `steps`, over all of its runs. */
async function newAgent(caller: Api, steps: Parameters<typeof models.script>[0], toolNames: string[]) {
  const model = models.script(steps);
  return (await caller.createAgent({ configuration: { model: model.id, tools: toolNames } })).id;
}

/** Runs one question on a new thread of the agent; the stored reply. */
async function ask(caller: Api, agentId: string) {
  const thread = await caller.createThread(agentId);
  const reply = await caller.post(`/api/v1/chat/${agentId}/threads/${thread.id}/messages`, {
    role: 'user',
    content: 'Go',
  });
  if (reply.status !== 200) throw new Error(`ask: ${reply.status} ${reply.raw}`);
  return { threadId: thread.id, reply: reply.body };
}

const settled = () =>
  pollUntil(() => (context.parley.runtime.activeRunCount === 0 ? true : undefined), { what: 'the runs to end' });

beforeAll(async () => {
  context = await createTestContext({ models: models.registry, tools });
  const organization = await context.newOrganization();
  api = client(context, organization.key);
  const other = await context.newOrganization();
  otherApi = client(context, other.key);
  // One run: the calculator (completed), then a failing tool (failed).
  calculatorAgent = await newAgent(
    api,
    [
      callTools({ name: 'calculator', input: { expression: '6*7' } }),
      callTools({ name: 'explode', input: {} }),
      say('Done.'),
    ],
    ['calculator', 'explode'],
  );
  await ask(api, calculatorAgent);
  // Two runs: a call left waiting for approval; another that is rejected, after which the run ends.
  paymentsAgent = await newAgent(
    api,
    [
      callTools({ name: 'wire_money', input: { amount: 5, to: 'bob' }, id: 'call_wait' }),
      callTools({ name: 'wire_money', input: { amount: 9, to: 'eve' }, id: 'call_no' }),
      say('Not sent.'),
    ],
    ['wire_money'],
  );
  await ask(api, paymentsAgent);
  const rejected = await ask(api, paymentsAgent);
  rejectedRunId = rejected.reply.metadata.run_id;
  const path = `/api/v1/chat/${paymentsAgent}/threads/${rejected.threadId}/runs/${rejectedRunId}/tool-calls/call_no/reject`;
  const decision = await api.post(path, { reason: 'not eve' });
  if (decision.status !== 200) throw new Error(`reject: ${decision.status} ${decision.raw}`);
  await settled();
  // The other organisation's own call.
  otherAgent = await newAgent(
    otherApi,
    [callTools({ name: 'calculator', input: { expression: '1+1' } }), say('2')],
    ['calculator'],
  );
  await ask(otherApi, otherAgent);
});
afterAll(async () => {
  await context?.close();
});

const list = async (query = '', caller: Api = api) => {
  const response = await caller.get(`/api/v1/tool-calls${query}`);
  expect(response.status).toBe(200);
  return response.body;
};
const names = (body: any) => body.tool_calls.map((call: any) => `${call.tool_name}:${call.status}`);

describe('GET /api/v1/tool-calls', () => {
  it('lists every call of the organisation, newest first, with its agent, run, status and approval', async () => {
    const body = await list();
    expect(names(body)).toEqual([
      'wire_money:rejected',
      'wire_money:pending_approval',
      'explode:failed',
      'calculator:completed',
    ]);
    expect(body).toMatchObject({ total_count: 4, page: 1, page_size: 20, has_more: false });
    const [rejected, pending, failed, completed] = body.tool_calls;
    expect(completed).toMatchObject({
      agent_id: calculatorAgent,
      tool_call_id: 'call_1',
      arguments: { expression: '6*7' },
      result: { expression: '6*7', result: 42 },
      error: null,
      approval: null,
    });
    expect(completed.end_time).not.toBeNull();
    expect(failed).toMatchObject({ agent_id: calculatorAgent, result: null, error: 'the upstream is down' });
    expect(failed.run_id).toBe(completed.run_id);
    expect(failed.thread_id).toBe(completed.thread_id);
    expect(pending).toMatchObject({
      agent_id: paymentsAgent,
      tool_call_id: 'call_wait',
      arguments: { amount: 5, to: 'bob' },
      end_time: null,
      approval: { decision: null, reason: null, decided_at: null, requested_arguments: { amount: 5, to: 'bob' } },
    });
    expect(rejected).toMatchObject({
      agent_id: paymentsAgent,
      run_id: rejectedRunId,
      tool_call_id: 'call_no',
      approval: { decision: 'rejected', reason: 'not eve' },
    });
    expect(Object.keys(completed).sort()).toEqual(
      [
        'id',
        'agent_id',
        'thread_id',
        'message_id',
        'run_id',
        'tool_call_id',
        'tool_name',
        'status',
        'arguments',
        'result',
        'error',
        'start_time',
        'end_time',
        'approval',
      ].sort(),
    );
  });

  it('filters by agent, tool name, status and time, alone and combined', async () => {
    expect(names(await list(`?agent_id=${calculatorAgent}`))).toEqual(['explode:failed', 'calculator:completed']);
    expect(names(await list('?tool_name=wire_money'))).toEqual(['wire_money:rejected', 'wire_money:pending_approval']);
    for (const status of ['completed', 'failed', 'pending_approval', 'rejected']) {
      const body = await list(`?status=${status}`);
      expect(body.tool_calls.map((call: any) => call.status)).toEqual([status]);
      expect(body.total_count).toBe(1);
    }
    expect(await list('?status=running')).toMatchObject({ tool_calls: [], total_count: 0 });
    expect(names(await list(`?agent_id=${paymentsAgent}&status=rejected`))).toEqual(['wire_money:rejected']);
    expect(names(await list(`?agent_id=${calculatorAgent}&tool_name=wire_money`))).toEqual([]);

    const all = (await list()).tool_calls;
    const failedStart = all[2].start_time as string;
    const pendingStart = all[1].start_time as string;
    // Both bounds are inclusive; an offset is read as the instant it names.
    expect(names(await list(`?from=${failedStart}&to=${pendingStart}`))).toEqual([
      'wire_money:pending_approval',
      'explode:failed',
    ]);
    const shifted = new Date(failedStart).getTime() + 2 * 3600_000;
    const withOffset = `${new Date(shifted).toISOString().slice(0, 23)}%2B02:00`;
    expect(names(await list(`?to=${withOffset}&agent_id=${calculatorAgent}`))).toEqual([
      'explode:failed',
      'calculator:completed',
    ]);
    expect(names(await list(`?from=${failedStart}&status=failed&tool_name=explode`))).toEqual(['explode:failed']);
    expect(names(await list('?from=2999-01-01T00:00:00Z'))).toEqual([]);
  });

  it('pages with page and page_size, with the total of all matches', async () => {
    const all = (await list()).tool_calls.map((call: any) => call.id);
    const first = await list('?page_size=3');
    expect(first).toMatchObject({ total_count: 4, page: 1, page_size: 3, has_more: true });
    const second = await list('?page_size=3&page=2');
    expect(second).toMatchObject({ total_count: 4, page: 2, page_size: 3, has_more: false });
    expect([...first.tool_calls, ...second.tool_calls].map((call: any) => call.id)).toEqual(all);
    expect(await list('?page=3&page_size=3')).toMatchObject({ tool_calls: [], total_count: 4, has_more: false });
  });

  it('keeps organisations apart: another organisation sees only its own calls, and none through an agent id', async () => {
    const theirs = await list('', otherApi);
    expect(names(theirs)).toEqual(['calculator:completed']);
    expect(theirs.tool_calls[0].agent_id).toBe(otherAgent);
    expect(await list(`?agent_id=${calculatorAgent}`, otherApi)).toMatchObject({ tool_calls: [], total_count: 0 });
    expect(await list(`?agent_id=${otherAgent}`)).toMatchObject({ tool_calls: [], total_count: 0 });
    expect(await list(`?agent_id=${crypto.randomUUID()}`)).toMatchObject({ tool_calls: [], total_count: 0 });
  });

  it('refuses bad input with a 422 at the field', async () => {
    const cases: [string, (string | number)[]][] = [
      ['?status=done', ['query', 'status']],
      ['?agent_id=not-a-uuid', ['query', 'agent_id']],
      ['?from=yesterday', ['query', 'from']],
      ['?to=2026-13-01T00:00:00Z', ['query', 'to']],
      ['?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', ['query', 'to']],
      ['?page=0', ['query', 'page']],
      ['?page_size=101', ['query', 'page_size']],
      [`?tool_name=${'x'.repeat(256)}`, ['query', 'tool_name']],
    ];
    for (const [query, loc] of cases) {
      const response = await api.get(`/api/v1/tool-calls${query}`);
      expect(response.status, query).toBe(422);
      expect(
        response.body.detail.map((issue: any) => issue.loc),
        query,
      ).toEqual([loc]);
    }
  });
});
