import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LanguageModel } from '../../src/models/model-port.js';
import { growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';

/**
 * Organisation quotas (docs/usage.md): a token or cost budget per UTC day or month, checked
 * where a run opens; a run that would start over it is refused with 429 `quota_exceeded` before
 * the model is called, and nothing is stored.
 */
const models = growingRegistry('quotas');
let now = new Date('2031-03-15T12:00:00.000Z');
let context: TestContext;

beforeAll(async () => {
  context = await createTestContext({
    models: models.registry,
    clock: { now: () => now },
    // One dollar per thousand input tokens, two per thousand output tokens, for every scripted model.
    pricing: { 'scripted:*': { input: 1000, output: 2000 } },
  });
});
afterAll(() => context?.close());

interface Setup {
  api: Api;
  organizationId: string;
  agentId: string;
  threadId: string;
}

async function organizationWithThread(): Promise<Setup> {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const agent = await api.createAgent({ configuration: { model: 'demo' } });
  const thread = await api.createThread(agent.id);
  return { api, organizationId: organization.organizationId, agentId: agent.id, threadId: thread.id };
}

/** Sets the agent's model to a fresh scripted one that answers once with `usage`. */
async function useModel(setup: Setup, usage: { inputTokens: number; outputTokens: number }) {
  const model = models.script([say('Fine.', usage)]);
  const updated = await setup.api.put(`/api/v1/agents/${setup.agentId}`, { configuration: { model: model.id } });
  expect(updated.status).toBe(200);
  return model;
}

const messagesUrl = (setup: Setup, threadId = setup.threadId) =>
  `/api/v1/chat/${setup.agentId}/threads/${threadId}/messages`;

async function ask(setup: Setup, threadId = setup.threadId) {
  return setup.api.post(messagesUrl(setup, threadId), { role: 'user', content: 'Hello?' });
}

async function storedCounts(setup: Setup) {
  const messages = await setup.api.get(messagesUrl(setup));
  const executions = await setup.api.get(`/api/v1/flows/executions?agent_id=${setup.agentId}`);
  return { messages: messages.body.length as number, executions: executions.body.total_count as number };
}

describe('GET and PUT /api/v1/quota', () => {
  it('shows no limits and the month so far when no quota is set', async () => {
    now = new Date('2031-03-15T12:00:00.000Z');
    const setup = await organizationWithThread();
    const response = await setup.api.get('/api/v1/quota');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      period: 'month',
      max_tokens: null,
      max_cost: null,
      used_tokens: 0,
      used_cost: 0,
      resets_at: '2031-04-01T00:00:00.000Z',
    });
  });

  it('sets a budget (admin scope only) and refuses bad input, changing nothing', async () => {
    now = new Date('2031-03-15T12:00:00.000Z');
    const setup = await organizationWithThread();
    const set = await setup.api.put('/api/v1/quota', { period: 'day', max_tokens: 1000, max_cost: 2.5 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      period: 'day',
      max_tokens: 1000,
      max_cost: 2.5,
      used_tokens: 0,
      used_cost: 0,
      resets_at: '2031-03-16T00:00:00.000Z',
    });
    const bad: [unknown, (string | number)[]][] = [
      [{ period: 'week', max_tokens: 1 }, ['body', 'period']],
      [{ max_tokens: 1 }, ['body', 'period']],
      [{ period: 'day', max_tokens: -1 }, ['body', 'max_tokens']],
      [{ period: 'day', max_tokens: 1.5 }, ['body', 'max_tokens']],
      [{ period: 'day', max_tokens: '10' }, ['body', 'max_tokens']],
      [{ period: 'day', max_cost: -0.01 }, ['body', 'max_cost']],
    ];
    for (const [body, loc] of bad) {
      const response = await setup.api.put('/api/v1/quota', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body.code).toBe('validation_error');
      expect(response.body.detail[0].loc, JSON.stringify(body)).toEqual(loc);
    }
    const reader = client(context, await keyWith(setup, ['read', 'write']));
    const refused = await reader.put('/api/v1/quota', { period: 'month', max_tokens: null });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('insufficient_scope');
    // A read key sees the quota; nothing above changed it.
    expect((await reader.get('/api/v1/quota')).body).toMatchObject({ period: 'day', max_tokens: 1000, max_cost: 2.5 });
    // Null (or absent) lifts a limit.
    const lifted = await setup.api.put('/api/v1/quota', { period: 'month', max_tokens: null });
    expect(lifted.body).toMatchObject({ period: 'month', max_tokens: null, max_cost: null });
  });
});

/** Another key of the organisation of `setup`, with these scopes. */
async function keyWith(setup: Setup, scopes: ('read' | 'write' | 'admin')[]): Promise<string> {
  const created = await context.parley.keys.create({
    organization: { id: setup.organizationId },
    userName: 'tester',
    scopes,
  });
  return created.key;
}

describe('a token budget at its edges', () => {
  it('admits a run one token below the budget, refuses one exactly at it and one token over', async () => {
    now = new Date('2031-03-15T23:59:30.000Z');
    const setup = await organizationWithThread();
    await setup.api.put('/api/v1/quota', { period: 'day', max_tokens: 30 });

    await useModel(setup, { inputTokens: 10, outputTokens: 5 });
    expect((await ask(setup)).status).toBe(200);
    await useModel(setup, { inputTokens: 10, outputTokens: 4 });
    expect((await ask(setup)).status).toBe(200);
    expect((await setup.api.get('/api/v1/quota')).body.used_tokens).toBe(29);
    // One token below the budget: admitted, and it spends the last token.
    await useModel(setup, { inputTokens: 1, outputTokens: 0 });
    expect((await ask(setup)).status).toBe(200);

    // Exactly at the budget: refused before the model is called, and nothing is stored.
    const before = await storedCounts(setup);
    const unused = await useModel(setup, { inputTokens: 1, outputTokens: 1 });
    const refused = await ask(setup);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.body).toEqual({
      detail: expect.stringContaining('budget'),
      code: 'quota_exceeded',
      request_id: refused.body.request_id,
      quota: {
        period: 'day',
        max_tokens: 30,
        max_cost: null,
        used_tokens: 30,
        // 0.02 + 0.018 + 0.001 USD at the scripted models' price.
        used_cost: expect.closeTo(0.039, 12),
        resets_at: '2031-03-16T00:00:00.000Z',
      },
    });
    expect(unused.requests).toHaveLength(0);
    expect(await storedCounts(setup)).toEqual(before);

    // One token over the budget (the budget lowered below what was used): refused too.
    await setup.api.put('/api/v1/quota', { period: 'day', max_tokens: 29 });
    expect((await ask(setup)).status).toBe(429);
    // Room again: admitted.
    await setup.api.put('/api/v1/quota', { period: 'day', max_tokens: 31 });
    expect((await ask(setup)).status).toBe(200);
    expect(unused.requests).toHaveLength(1);
  });

  it('refuses every chat route that opens a run, before anything is stored', async () => {
    now = new Date('2031-03-15T12:00:00.000Z');
    const setup = await organizationWithThread();
    await setup.api.put('/api/v1/quota', { period: 'month', max_tokens: 0 });
    const unused = await useModel(setup, { inputTokens: 1, outputTokens: 1 });
    const base = `/api/v1/chat/${setup.agentId}`;
    const attempts = [
      setup.api.post(`${base}/threads/${setup.threadId}/messages`, { role: 'user', content: 'Hi' }),
      setup.api.post(`${base}/threads/${setup.threadId}/messages/stream`, { role: 'user', content: 'Hi' }),
      setup.api.post(`${base}/ui-messages`, {
        id: setup.threadId,
        messages: [{ id: 'local-1', role: 'user', parts: [{ type: 'text', text: 'Hi' }] }],
        trigger: 'submit-message',
      }),
      setup.api.post(`${base}/ag-ui`, {
        threadId: setup.threadId,
        runId: 'run-1',
        messages: [{ id: 'message-1', role: 'user', content: 'Hi' }],
        tools: [],
        context: [],
        state: {},
        forwardedProps: {},
      }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(429);
      expect(response.body.code).toBe('quota_exceeded');
      expect(response.headers['retry-after']).toBe(String(16 * 86_400 + 12 * 3600));
      expect(response.body.quota).toEqual({
        period: 'month',
        max_tokens: 0,
        max_cost: null,
        used_tokens: 0,
        used_cost: 0,
        resets_at: '2031-04-01T00:00:00.000Z',
      });
    }
    expect(unused.requests).toHaveLength(0);
    expect(await storedCounts(setup)).toEqual({ messages: 0, executions: 0 });
  });
});

describe('a cost budget', () => {
  it('counts the priced cost of each run and refuses once it is spent', async () => {
    now = new Date('2031-03-15T12:00:00.000Z');
    const setup = await organizationWithThread();
    // 10 input and 5 output tokens at 1000 and 2000 USD per million: 0.02 USD a run.
    await setup.api.put('/api/v1/quota', { period: 'month', max_cost: 0.04 });
    await useModel(setup, { inputTokens: 10, outputTokens: 5 });
    expect((await ask(setup)).status).toBe(200);
    await useModel(setup, { inputTokens: 10, outputTokens: 5 });
    const second = await ask(setup);
    expect(second.status).toBe(200);
    expect(second.body.metadata.cost_estimate).toBe(0.02);
    const refused = await ask(setup);
    expect(refused.status).toBe(429);
    expect(refused.body.quota).toMatchObject({ max_cost: 0.04, used_cost: 0.04, used_tokens: 30 });
  });
});

describe('period rollover', () => {
  it('starts a day budget afresh at 00:00 UTC and a month budget on the first', async () => {
    now = new Date('2031-03-31T23:59:59.000Z');
    const setup = await organizationWithThread();
    await setup.api.put('/api/v1/quota', { period: 'day', max_tokens: 10 });
    await useModel(setup, { inputTokens: 10, outputTokens: 5 });
    expect((await ask(setup)).status).toBe(200);
    const refused = await ask(setup);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');

    now = new Date('2031-04-01T00:00:00.000Z');
    expect((await setup.api.get('/api/v1/quota')).body).toEqual({
      period: 'day',
      max_tokens: 10,
      max_cost: null,
      used_tokens: 0,
      used_cost: 0,
      resets_at: '2031-04-02T00:00:00.000Z',
    });
    await useModel(setup, { inputTokens: 4, outputTokens: 4 });
    expect((await ask(setup)).status).toBe(200);

    // A month budget sees both days of April, not March's run.
    await setup.api.put('/api/v1/quota', { period: 'month', max_tokens: 20 });
    now = new Date('2031-04-02T08:00:00.000Z');
    expect((await setup.api.get('/api/v1/quota')).body).toMatchObject({
      used_tokens: 8,
      resets_at: '2031-05-01T00:00:00.000Z',
    });
  });
});

describe('concurrent runs racing the last of a budget', () => {
  it('lets every run admitted before the budget was spent finish: the overshoot is what they spend', async () => {
    now = new Date('2031-03-15T12:00:00.000Z');
    const setup = await organizationWithThread();
    await setup.api.put('/api/v1/quota', { period: 'day', max_tokens: 100 });
    await useModel(setup, { inputTokens: 60, outputTokens: 30 });
    expect((await ask(setup)).status).toBe(200);

    // Two runs open while 10 tokens are left; both are held inside their model call.
    const gate = gatedModel(models.freshId('gated'), 2, { inputTokens: 10, outputTokens: 10 });
    models.add(gate.model);
    await setup.api.put(`/api/v1/agents/${setup.agentId}`, { configuration: { model: gate.model.id } });
    const second = await setup.api.createThread(setup.agentId);
    const racing = [ask(setup), ask(setup, second.id)];
    await gate.allInside;
    gate.release();
    const answers = await Promise.all(racing);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);

    const status = (await setup.api.get('/api/v1/quota')).body;
    expect(status.used_tokens).toBe(130);
    const third = await setup.api.createThread(setup.agentId);
    const refused = await ask(setup, third.id);
    expect(refused.status).toBe(429);
    expect(refused.body.quota.used_tokens).toBe(130);
  });
});

describe('tenancy', () => {
  it('keeps one organisation’s quota and spend away from another', async () => {
    now = new Date('2031-03-15T12:00:00.000Z');
    const spender = await organizationWithThread();
    await spender.api.put('/api/v1/quota', { period: 'day', max_tokens: 5 });
    await useModel(spender, { inputTokens: 10, outputTokens: 5 });
    expect((await ask(spender)).status).toBe(200);
    expect((await ask(spender)).status).toBe(429);

    const other = await organizationWithThread();
    expect((await other.api.get('/api/v1/quota')).body).toMatchObject({ max_tokens: null, used_tokens: 0 });
    await useModel(other, { inputTokens: 1, outputTokens: 1 });
    expect((await ask(other)).status).toBe(200);
    expect((await spender.api.get('/api/v1/quota')).body.used_tokens).toBe(15);
  });
});

/**
 * A model that holds each call until released, and says when `expected` calls are inside: the
 * runs it serves were all admitted before any of them spent a token.
 */
function gatedModel(id: string, expected: number, usage: { inputTokens: number; outputTokens: number }) {
  let inside = 0;
  let allIn!: () => void;
  let open!: () => void;
  const allInside = new Promise<void>((resolve) => (allIn = resolve));
  const gate = new Promise<void>((resolve) => (open = resolve));
  const model: LanguageModel = {
    id,
    async *stream() {
      inside += 1;
      if (inside === expected) allIn();
      await gate;
      yield { type: 'text-delta', text: 'Done.' };
      yield { type: 'finish', finishReason: 'stop', usage };
    },
  };
  return { model, allInside, release: () => open() };
}
