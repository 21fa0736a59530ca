import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { LanguageModel } from '../../src/models/model-port.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { startFakeOpenAiServer, type FakeVendorServer } from '../fixtures/fake-openai-server.js';
import { say, scriptedModel } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';

/**
 * The usage report (docs/usage.md): tokens exactly as the provider reported them, cost from the
 * pricing table at the time of the run, summed per UTC day, agent or model, for the caller's
 * organisation only.
 */
const OPENAI_KEY = 'sk-openai-usage-0123456789';
let openaiFake: FakeVendorServer;
let context: TestContext;
let now = new Date('2031-06-10T09:00:00.000Z');
let scripted = 0;
const scriptedModels = new Map<string, LanguageModel>();

beforeAll(async () => {
  openaiFake = await startFakeOpenAiServer({ apiKey: OPENAI_KEY });
  const real = createModelRegistry({
    ...loadConfig({}).models,
    demoWordsPerSecond: 0,
    openai: { apiKey: OPENAI_KEY, baseUrl: `${openaiFake.baseUrl}/v1` },
  });
  context = await createTestContext({
    models: { resolve: (id) => scriptedModels.get(id) ?? real.resolve(id) },
    clock: { now: () => now },
    // The operator's price for gpt-4o-mini replaces the built-in one.
    pricing: { 'openai:gpt-4o-mini': { input: 1, output: 3 } },
  });
});
afterAll(async () => {
  await context?.close();
  await openaiFake?.close();
});
beforeEach(() => openaiFake.reset());

/** A scripted model (it has no price) answering once with `usage`. */
function unpricedModel(usage: { inputTokens: number; outputTokens: number }): string {
  scripted += 1;
  const model = scriptedModel(`scripted:usage-${scripted}`, [say('Noted.', usage)]);
  scriptedModels.set(model.id, model);
  return model.id;
}

async function agentOn(api: Api, model: string) {
  const agent = await api.createAgent({ configuration: { model } });
  const thread = await api.createThread(agent.id);
  return {
    agent,
    ask: () =>
      api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, { role: 'user', content: 'How much?' }),
  };
}

const cost = (input: number, output: number, price: [number, number]) => (input * price[0] + output * price[1]) / 1e6;

describe('usage per run, message and model against the fake OpenAI server', () => {
  it('records the tokens the provider reported and the cost at the table’s price', async () => {
    now = new Date('2031-06-10T09:00:00.000Z');
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const mini = await agentOn(api, 'openai:gpt-4.1-mini');
    openaiFake.script(
      { kind: 'text', chunks: ['One ', 'answer.'], usage: { inputTokens: 1234, outputTokens: 567 } },
      { kind: 'text', chunks: ['Another.'], usage: { inputTokens: 100, outputTokens: 50 } },
    );
    const first = await mini.ask();
    expect(first.status).toBe(200);
    expect(first.body.metadata).toMatchObject({
      model: 'openai:gpt-4.1-mini',
      usage: { input_tokens: 1234, output_tokens: 567, total_tokens: 1801 },
      cost_estimate: cost(1234, 567, [0.4, 1.6]),
    });
    const execution = await api.get(`/api/v1/flows/executions/${first.body.metadata.run_id}`);
    expect(execution.body).toMatchObject({
      tokens_used: 1801,
      cost_estimate: cost(1234, 567, [0.4, 1.6]),
      performance_metrics: { input_tokens: 1234, output_tokens: 567 },
    });
    expect((await mini.ask()).status).toBe(200);

    // The operator's price (MODEL_PRICING) for gpt-4o-mini, not the built-in 0.15 / 0.6.
    const overridden = await agentOn(api, 'openai:gpt-4o-mini');
    openaiFake.script({ kind: 'text', chunks: ['Priced.'], usage: { inputTokens: 1000, outputTokens: 1000 } });
    const priced = await overridden.ask();
    expect(priced.body.metadata.cost_estimate).toBe(cost(1000, 1000, [1, 3]));

    const report = await api.get('/api/v1/usage?group_by=model');
    expect(report.status).toBe(200);
    expect(report.body.rows).toEqual([
      {
        key: 'openai:gpt-4.1-mini',
        runs: 2,
        input_tokens: 1334,
        output_tokens: 617,
        total_tokens: 1951,
        cost: expect.closeTo(cost(1334, 617, [0.4, 1.6]), 15),
        unpriced_runs: 0,
      },
      {
        key: 'openai:gpt-4o-mini',
        runs: 1,
        input_tokens: 1000,
        output_tokens: 1000,
        total_tokens: 2000,
        cost: 0.004,
        unpriced_runs: 0,
      },
    ]);
    expect(report.body.total).toEqual({
      runs: 3,
      input_tokens: 2334,
      output_tokens: 1617,
      total_tokens: 3951,
      cost: expect.closeTo(cost(1334, 617, [0.4, 1.6]) + 0.004, 15),
      unpriced_runs: 0,
    });
  });
});

describe('GET /api/v1/usage', () => {
  it('sums per UTC day and per agent; the demo model costs 0, an unpriced model null', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const demo = await agentOn(api, 'demo');
    now = new Date('2031-06-01T23:59:59.999Z');
    expect((await demo.ask()).status).toBe(200);
    const unpriced = await agentOn(api, unpricedModel({ inputTokens: 7, outputTokens: 3 }));
    now = new Date('2031-06-02T00:00:00.000Z');
    expect((await unpriced.ask()).status).toBe(200);
    const demoRun = (await api.get(`/api/v1/flows/executions?agent_id=${demo.agent.id}`)).body.executions[0];
    expect(demoRun.cost_estimate).toBe(0);
    const demoTokens = demoRun.performance_metrics as { input_tokens: number; output_tokens: number };

    const window = 'from=2031-06-01T00:00:00Z&to=2031-06-03T00:00:00Z';
    const byDay = await api.get(`/api/v1/usage?group_by=day&${window}`);
    expect(byDay.body).toEqual({
      group_by: 'day',
      from: '2031-06-01T00:00:00.000Z',
      to: '2031-06-03T00:00:00.000Z',
      rows: [
        {
          key: '2031-06-01',
          runs: 1,
          input_tokens: demoTokens.input_tokens,
          output_tokens: demoTokens.output_tokens,
          total_tokens: demoRun.tokens_used,
          cost: 0,
          unpriced_runs: 0,
        },
        {
          key: '2031-06-02',
          runs: 1,
          input_tokens: 7,
          output_tokens: 3,
          total_tokens: 10,
          cost: null,
          unpriced_runs: 1,
        },
      ],
      total: {
        runs: 2,
        input_tokens: demoTokens.input_tokens + 7,
        output_tokens: demoTokens.output_tokens + 3,
        total_tokens: demoRun.tokens_used + 10,
        cost: 0,
        unpriced_runs: 1,
      },
    });
    const byAgent = await api.get(`/api/v1/usage?group_by=agent&${window}`);
    expect(byAgent.body.rows.map((row: { key: string; runs: number }) => [row.key, row.runs]).sort()).toEqual(
      [
        [demo.agent.id, 1],
        [unpriced.agent.id, 1],
      ].sort(),
    );
    // `to` is exclusive and `from` inclusive: the second day alone.
    const secondDay = await api.get('/api/v1/usage?from=2031-06-02T00:00:00Z&to=2031-06-02T00:00:00.001Z');
    expect(secondDay.body.rows).toHaveLength(1);
    expect(secondDay.body.rows[0].key).toBe('2031-06-02');

    // Deleting an agent does not give its spend back.
    expect((await api.delete(`/api/v1/agents/${unpriced.agent.id}`)).status).toBeLessThan(300);
    expect((await api.get(`/api/v1/usage?group_by=agent&${window}`)).body.total.runs).toBe(2);
  });

  it('defaults to the 30 UTC days up to the end of today and refuses a bad window', async () => {
    now = new Date('2031-06-10T09:00:00.000Z');
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const empty = await api.get('/api/v1/usage');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({
      group_by: 'day',
      from: '2031-05-12T00:00:00.000Z',
      to: '2031-06-11T00:00:00.000Z',
      rows: [],
      total: { runs: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost: null, unpriced_runs: 0 },
    });
    const cases: [string, (string | number)[]][] = [
      ['group_by=week', ['query', 'group_by']],
      ['from=yesterday', ['query', 'from']],
      ['from=2031-06-02T00:00:00Z&to=2031-06-01T00:00:00Z', ['query', 'from']],
      ['from=2031-06-01T00:00:00Z&to=2031-06-01T00:00:00Z', ['query', 'from']],
      ['from=2030-01-01T00:00:00Z&to=2031-06-01T00:00:00Z', ['query', 'to']],
    ];
    for (const [query, loc] of cases) {
      const response = await api.get(`/api/v1/usage?${query}`);
      expect(response.status, query).toBe(422);
      expect(response.body.detail[0].loc, query).toEqual(loc);
    }
  });

  it('never shows another organisation’s usage', async () => {
    now = new Date('2031-06-10T09:00:00.000Z');
    const spender = client(context, (await context.newOrganization()).key);
    const agent = await agentOn(spender, unpricedModel({ inputTokens: 50, outputTokens: 50 }));
    expect((await agent.ask()).status).toBe(200);
    expect((await spender.get('/api/v1/usage?group_by=agent')).body.total.total_tokens).toBe(100);

    const other = await context.newOrganization(['read']);
    const stranger = client(context, other.key);
    for (const groupBy of ['day', 'agent', 'model']) {
      const response = await stranger.get(`/api/v1/usage?group_by=${groupBy}`);
      expect(response.status).toBe(200);
      expect(response.body.rows).toEqual([]);
    }
  });
});
