import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { FlowScheduler } from '../../src/features/flows/flow-scheduler.js';
import { newId } from '../../src/ids.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { client, createTestContext, type Api, type TestContext, type TestPeer } from '../helpers/harness.js';
import { createFlow, eventually } from '../helpers/flows.js';

/**
 * The flow scheduler (docs/flows.md#schedules): due schedules fire as `scheduled` executions,
 * each slot exactly once across processes, at the right UTC instant of the schedule's timezone,
 * never for a deleted or replaced schedule, and only the latest of the slots missed.
 */
const EVERY_SECOND = '* * * * * *';

async function scheduledExecutions(api: Api, flowId: string): Promise<any[]> {
  const response = await api.get(`/api/v1/flows/executions?flow_id=${flowId}&trigger_type=scheduled&page_size=100`);
  expect(response.status).toBe(200);
  return response.body.executions;
}

describe('running processes', () => {
  let context: TestContext;
  let peer: TestPeer;
  let api: Api;
  const jobs = { workerConcurrency: 2, flowSchedulerIntervalMs: 20 };

  beforeAll(async () => {
    context = await createTestContext({ jobs });
    peer = await context.peer({ jobs: { ...loadConfig({}).jobs, ...jobs } });
    api = client(context, (await context.newOrganization()).key);
  });
  afterAll(async () => {
    await peer?.close();
    await context?.close();
  });

  it('fires an every-second schedule as scheduled executions that complete on the demo model, one per slot across two apps', async () => {
    const agent = await api.createAgent({ configuration: { model: 'demo' } });
    const flow = await createFlow(api, agent.id, {
      instructions: 'Greet {{who}}.',
      variables: [{ name: 'who', type: 'string', required: true }],
      schedules: [{ cron: EVERY_SECOND, variables: { who: 'the team' } }],
    });
    const [schedule] = flow.schedules;
    await eventually(
      async () => (await scheduledExecutions(api, flow.id)).filter((run) => run.status === 'completed').length >= 3,
      'three completed scheduled executions',
    );
    // Both apps tick every 20 ms; the schedule stops firing once its flow is deleted.
    expect((await api.delete(`/api/v1/agents/${agent.id}/flows/${flow.id}`)).status).toBe(204);
    const executions = await scheduledExecutions(api, flow.id);
    const slots = executions.map((run) => run.trigger_data.slot_at);
    expect(new Set(slots).size).toBe(executions.length);
    for (const run of executions) {
      expect(run.trigger_data).toEqual({ schedule_id: schedule.id, slot_at: expect.any(String), cron: EVERY_SECOND });
      expect(run.variables).toEqual({ who: 'the team' });
      expect(new Date(run.trigger_data.slot_at).getUTCMilliseconds()).toBe(0);
    }
    const completed = executions.find((run) => run.status === 'completed');
    expect(completed.final_output.text).toEqual(expect.any(String));
    expect(completed.tokens_used).toBeGreaterThan(0);
  });
});

describe('ticks with an injected clock', () => {
  let context: TestContext;
  let api: Api;
  let second: Store;
  let now = new Date('2026-03-28T06:00:00.000Z');
  const clock = { now: () => now };
  const schedulerOn = (store: Store) =>
    new FlowScheduler({
      store,
      clock,
      newId,
      maxAttempts: 3,
      intervalMs: 60_000,
      wake: () => undefined,
      log: context.parley.app.log,
    });

  beforeAll(async () => {
    // No worker and no scheduler of its own: only the ticks below fire.
    context = await createTestContext({ clock, jobs: { workerConcurrency: 0 } });
    second = await openStore(context.database.target);
    api = client(context, (await context.newOrganization()).key);
  });
  afterAll(async () => {
    await second?.close();
    await context?.close();
  });

  // Each test's flows go after it, so a tick counts only the schedules of the test that runs.
  const agents: string[] = [];
  afterEach(async () => {
    for (const agentId of agents.splice(0)) await api.delete(`/api/v1/agents/${agentId}`);
  });

  async function flowWith(schedules: Record<string, unknown>[]) {
    const agent = await api.createAgent({ configuration: { model: 'demo' } });
    agents.push(agent.id);
    return { agentId: agent.id, flow: await createFlow(api, agent.id, { schedules }) };
  }

  async function nextRunAt(agentId: string, flowId: string): Promise<string> {
    return (await api.get(`/api/v1/agents/${agentId}/flows/${flowId}`)).body.schedules[0].next_run_at;
  }

  it('puts a daily 09:00 Europe/Paris slot at the right UTC instant across both DST changes', async () => {
    now = new Date('2026-03-28T06:00:00.000Z');
    const { agentId, flow } = await flowWith([{ cron: '0 9 * * *', timezone: 'Europe/Paris' }]);
    expect(flow.schedules[0].next_run_at).toBe('2026-03-28T08:00:00.000Z'); // CET, UTC+1
    now = new Date('2026-03-28T08:00:00.400Z');
    expect(await schedulerOn(context.store).tick()).toBe(1);
    expect(await nextRunAt(agentId, flow.id)).toBe('2026-03-29T07:00:00.000Z'); // CEST from 29 March
    now = new Date('2026-10-24T07:00:01.000Z');
    expect(await schedulerOn(context.store).tick()).toBe(1);
    expect(await nextRunAt(agentId, flow.id)).toBe('2026-10-25T08:00:00.000Z'); // CET again from 25 October
    const slots = (await scheduledExecutions(api, flow.id)).map((run) => run.trigger_data.slot_at);
    expect(slots.sort()).toEqual(['2026-03-28T08:00:00.000Z', '2026-10-24T07:00:00.000Z']);
  });

  it('fires only the latest missed slot after a long pause, then nothing until the next one', async () => {
    now = new Date('2026-05-01T10:00:00.250Z');
    const { agentId, flow } = await flowWith([{ cron: EVERY_SECOND }]);
    now = new Date('2026-05-01T11:00:00.500Z');
    const scheduler = schedulerOn(context.store);
    expect(await scheduler.tick()).toBe(1);
    expect(await scheduler.tick()).toBe(0);
    const [run] = await scheduledExecutions(api, flow.id);
    expect(run).toMatchObject({ status: 'queued', trigger_type: 'scheduled', execution_number: 1 });
    expect(run.trigger_data.slot_at).toBe('2026-05-01T11:00:00.000Z');
    expect(await nextRunAt(agentId, flow.id)).toBe('2026-05-01T11:00:01.000Z');
    expect(await scheduledExecutions(api, flow.id)).toHaveLength(1);
  });

  it('never fires the schedule of a deleted flow, nor a schedule a PUT replaced', async () => {
    now = new Date('2026-06-01T10:00:00.000Z');
    const deleted = await flowWith([{ cron: EVERY_SECOND }]);
    const replaced = await flowWith([{ cron: EVERY_SECOND }]);
    expect((await api.delete(`/api/v1/agents/${deleted.agentId}/flows/${deleted.flow.id}`)).status).toBe(204);
    const put = await api.put(`/api/v1/agents/${replaced.agentId}/flows/${replaced.flow.id}`, {
      schedules: [{ cron: '0 0 1 1 *' }],
    });
    expect(put.status).toBe(200);
    now = new Date('2026-06-01T10:05:00.000Z');
    expect(await schedulerOn(context.store).tick()).toBe(0);
    expect(await scheduledExecutions(api, deleted.flow.id)).toEqual([]);
    expect(await scheduledExecutions(api, replaced.flow.id)).toEqual([]);
    expect(await nextRunAt(replaced.agentId, replaced.flow.id)).toBe('2027-01-01T00:00:00.000Z');
  });

  it('skips the slot of a schedule whose variables no longer fit the flow, and moves on', async () => {
    now = new Date('2026-08-01T10:00:00.000Z');
    const agent = await api.createAgent({ configuration: { model: 'demo' } });
    agents.push(agent.id);
    const flow = await createFlow(api, agent.id, {
      variables: [{ name: 'topic', type: 'string', required: false }],
      schedules: [{ cron: EVERY_SECOND, variables: { topic: 'news' } }],
    });
    // A PUT without schedules drops the variable the schedule gives.
    expect((await api.put(`/api/v1/agents/${agent.id}/flows/${flow.id}`, { variables: [] })).status).toBe(200);
    now = new Date('2026-08-01T10:00:05.500Z');
    const logged = context.logs.length;
    expect(await schedulerOn(context.store).tick()).toBe(0);
    expect(await scheduledExecutions(api, flow.id)).toEqual([]);
    expect(await nextRunAt(agent.id, flow.id)).toBe('2026-08-01T10:00:06.000Z');
    const warnings = context.logs.slice(logged).filter((line) => line.includes('variables no longer fit'));
    expect(warnings).toHaveLength(1);
  });

  it('gives each slot exactly one execution when two schedulers on one database tick at once', async () => {
    now = new Date('2026-07-01T10:00:00.000Z');
    const { flow } = await flowWith([{ cron: EVERY_SECOND }, { cron: EVERY_SECOND, variables: {} }]);
    const first = schedulerOn(context.store);
    const other = schedulerOn(second);
    for (let round = 1; round <= 5; round += 1) {
      now = new Date(Date.parse('2026-07-01T10:00:00.000Z') + round * 1000 + 300);
      const fired = await Promise.all([first.tick(), other.tick(), first.tick(), other.tick()]);
      expect(fired.reduce((sum, count) => sum + count, 0)).toBe(2);
    }
    const executions = await scheduledExecutions(api, flow.id);
    expect(executions).toHaveLength(10);
    const slots = executions.map((run) => `${run.trigger_data.schedule_id} ${run.trigger_data.slot_at}`);
    expect(new Set(slots).size).toBe(10);
    expect(executions.map((run) => run.execution_number).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });
});
