import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { createFlow } from '../helpers/flows.js';
import { expectError } from '../helpers/routes.js';

/** Flows CRUD (docs/flows.md): definitions, their checks, schedules, tenancy, Idempotency-Key. */
let context: TestContext;
let api: Api;
let agentId: string;

beforeAll(async () => {
  context = await createTestContext({ clock: { now: () => new Date('2031-03-02T10:15:00.000Z') } });
  const organization = await context.newOrganization();
  api = client(context, organization.key);
  agentId = (await api.createAgent({ configuration: { tools: ['calculator'] } })).id;
});
afterAll(async () => context?.close());

const definition = {
  name: 'Weekly digest',
  description: 'Summarises a topic',
  instructions: 'Summarise {{topic}} in {{words}} words.',
  variables: [
    { name: 'topic', type: 'string', required: true },
    { name: 'words', type: 'number', required: false, default: 50 },
  ],
  tools: ['calculator'],
  output_schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
  timeout_seconds: 120,
  priority: 'high',
  retry_config: { max_retries: 2, backoff: 'fixed', initial_delay_ms: 500, max_delay_ms: 500, retry_on: ['failed'] },
  schedules: [{ cron: '0 9 * * 1', timezone: 'Europe/Paris', variables: { topic: 'news' } }],
  metadata: { team: 'editorial' },
};

describe('flows CRUD', () => {
  it('creates a flow with its defaults, schedules and next slot, and reads it back', async () => {
    const created = await api.post(`/api/v1/agents/${agentId}/flows`, definition);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      agent_id: agentId,
      name: 'Weekly digest',
      variables: [
        { name: 'topic', type: 'string', required: true },
        { name: 'words', type: 'number', required: false, default: 50 },
      ],
      tools: ['calculator'],
      priority: 'high',
      timeout_seconds: 120,
      retry_config: definition.retry_config,
      metadata: { team: 'editorial' },
      created_at: '2031-03-02T10:15:00.000Z',
    });
    // Monday 3 March 2031 09:00 in Paris (UTC+1) is 08:00 UTC.
    expect(created.body.schedules).toEqual([
      {
        id: expect.any(String),
        cron: '0 9 * * 1',
        timezone: 'Europe/Paris',
        variables: { topic: 'news' },
        next_run_at: '2031-03-03T08:00:00.000Z',
      },
    ]);
    const read = await api.get(`/api/v1/agents/${agentId}/flows/${created.body.id}`);
    expect(read.body).toEqual(created.body);
    const list = await api.get(`/api/v1/agents/${agentId}/flows`);
    expect(list.body.map((flow: { id: string }) => flow.id)).toContain(created.body.id);
  });

  it('fills the optional fields with their defaults', async () => {
    const flow = await createFlow(api, agentId, { instructions: 'Plain.' });
    expect(flow).toMatchObject({
      description: null,
      variables: [],
      tools: [],
      output_schema: null,
      timeout_seconds: null,
      priority: null,
      retry_config: null,
      schedules: [],
      metadata: {},
    });
  });

  it('updates the fields given, replaces the schedules, and deletes', async () => {
    const flow = await createFlow(api, agentId, definition);
    const updated = await api.put(`/api/v1/agents/${agentId}/flows/${flow.id}`, {
      name: 'Renamed',
      schedules: [{ cron: '*/15 * * * *', variables: { topic: 'sport' } }],
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Renamed', instructions: definition.instructions, priority: 'high' });
    expect(updated.body.schedules).toEqual([
      expect.objectContaining({ cron: '*/15 * * * *', timezone: 'UTC', next_run_at: '2031-03-02T10:30:00.000Z' }),
    ]);
    const deleted = await api.delete(`/api/v1/agents/${agentId}/flows/${flow.id}`);
    expect(deleted.status).toBe(204);
    expectError(await api.get(`/api/v1/agents/${agentId}/flows/${flow.id}`), 404, 'flow_not_found');
    expectError(await api.delete(`/api/v1/agents/${agentId}/flows/${flow.id}`), 404, 'flow_not_found');
  });

  it('checks new schedules against the declared variables', async () => {
    const flow = await createFlow(api, agentId, definition);
    const response = await api.put(`/api/v1/agents/${agentId}/flows/${flow.id}`, {
      schedules: [{ cron: '0 * * * *' }],
    });
    expect(response.status).toBe(422);
    expect(response.body.detail).toEqual([
      { loc: ['body', 'schedules', 0, 'variables', 'topic'], msg: 'Field required', type: 'missing' },
    ]);
  });

  it.each([
    ['a bad cron', { schedules: [{ cron: '61 * * * *' }] }, ['body', 'schedules', 0, 'cron']],
    [
      'an unknown timezone',
      { schedules: [{ cron: '* * * * *', timezone: 'Mars/Olympus' }] },
      ['body', 'schedules', 0, 'timezone'],
    ],
    ['an output schema that does not compile', { output_schema: { type: 'objet' } }, ['body', 'output_schema']],
    [
      'a default of the wrong type',
      { variables: [{ name: 'n', type: 'number', required: false, default: 'five' }] },
      ['body', 'variables', 0, 'default'],
    ],
    [
      'a variable declared twice',
      {
        variables: [
          { name: 'n', type: 'number' },
          { name: 'n', type: 'string' },
        ],
      },
      ['body', 'variables', 1, 'name'],
    ],
    [
      'schedule variables that miss a required one',
      { variables: [{ name: 'topic', type: 'string', required: true }], schedules: [{ cron: '* * * * *' }] },
      ['body', 'schedules', 0, 'variables', 'topic'],
    ],
  ])('refuses %s with 422 and stores nothing', async (_name, body, loc) => {
    const before = (await api.get(`/api/v1/agents/${agentId}/flows?limit=100`)).body.length;
    const response = await api.post(`/api/v1/agents/${agentId}/flows`, { name: 'Bad', instructions: 'x', ...body });
    expect(response.status).toBe(422);
    expect(response.body.detail[0].loc).toEqual(loc);
    expect((await api.get(`/api/v1/agents/${agentId}/flows?limit=100`)).body.length).toBe(before);
  });

  it('accepts output schemas with the same $id in several flows', async () => {
    const output_schema = { $id: 'https://example.test/answer', type: 'object' };
    await createFlow(api, agentId, { output_schema });
    const second = await api.post(`/api/v1/agents/${agentId}/flows`, {
      name: 'Twin',
      instructions: 'x',
      output_schema,
    });
    expect(second.status).toBe(200);
    expect(second.body.output_schema).toEqual(output_schema);
  });

  it('replays a create with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'flow-create-1' };
    const first = await api.post(`/api/v1/agents/${agentId}/flows`, { name: 'Once', instructions: 'x' }, headers);
    const second = await api.post(`/api/v1/agents/${agentId}/flows`, { name: 'Once', instructions: 'x' }, headers);
    expect(second.status).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
  });

  it('answers 404 for another organisation’s agent or flow, and for an unknown agent', async () => {
    const flow = await createFlow(api, agentId);
    const other = client(context, (await context.newOrganization()).key);
    const otherAgent = (await other.createAgent()).id;
    expectError(await other.get(`/api/v1/agents/${agentId}/flows`), 404, 'agent_not_found');
    expectError(await other.get(`/api/v1/agents/${otherAgent}/flows/${flow.id}`), 404, 'flow_not_found');
    expectError(await other.put(`/api/v1/agents/${otherAgent}/flows/${flow.id}`, { name: 'x' }), 404, 'flow_not_found');
    expectError(await other.delete(`/api/v1/agents/${otherAgent}/flows/${flow.id}`), 404, 'flow_not_found');
    expectError(
      await other.post('/api/v1/flows/execute', { flow_id: flow.id, trigger_type: 'api' }),
      404,
      'flow_not_found',
    );
    expect((await api.get(`/api/v1/agents/${agentId}/flows/${flow.id}`)).status).toBe(200);
  });
});
