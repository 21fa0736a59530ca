import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/models/model-port.js';
import { growingRegistry } from '../fixtures/scripted-model.js';
import { createFlow, eventually, execute, waitForExecution } from '../helpers/flows.js';
import { client, createTestContext, injectRequest, type Api, type TestContext } from '../helpers/harness.js';

/**
 * Flow executions in `parley_runs_total` (docs/observability.md): counted once each, when their
 * end is stored, under `source="flow"`; chat runs under `source="chat"`.
 */

const models = growingRegistry('flow-metrics');
let context: TestContext;
let api: Api;
beforeAll(async () => {
  context = await createTestContext({ models: models.registry, jobs: { workerConcurrency: 1 } });
  api = client(context, (await context.newOrganization()).key);
});
afterAll(() => context?.close());

async function runsTotal(): Promise<Map<string, number>> {
  const response = await injectRequest(context, { method: 'GET', url: '/metrics' });
  expect(response.status).toBe(200);
  const values = new Map<string, number>();
  for (const line of response.raw.split('\n')) {
    if (!line.startsWith('parley_runs_total{')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice('parley_runs_total'.length, space), Number(line.slice(space + 1)));
  }
  return values;
}

async function flowOn(model: string) {
  const agent = await api.createAgent({ configuration: { model, tools: [] } });
  return createFlow(api, agent.id);
}

describe('parley_runs_total', () => {
  it('counts a completed and a failed flow execution under source="flow", a chat run under source="chat"', async () => {
    const before = await runsTotal();
    const completed = await execute(api, (await flowOn('demo')).id);
    expect((await waitForExecution(api, completed.id)).status).toBe('completed');
    const failing = models.script([
      [{ type: 'throw', error: new ModelError('provider_error', 'the provider is down') }],
    ]);
    const failed = await execute(api, (await flowOn(failing.id)).id);
    expect((await waitForExecution(api, failed.id)).status).toBe('failed');
    const agent = await api.createAgent({ configuration: { model: 'demo', tools: [] } });
    const thread = await api.createThread(agent.id);
    const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'Hello',
    });
    expect(reply.status).toBe(200);

    // The execution's row is read as ended in the same unit that counts it: wait for the count.
    let after = new Map<string, number>();
    await eventually(async () => {
      after = await runsTotal();
      return (
        (after.get('{outcome="failed",source="flow"}') ?? 0) > (before.get('{outcome="failed",source="flow"}') ?? 0)
      );
    }, 'the failed execution counted');
    const delta = (labels: string) => (after.get(labels) ?? 0) - (before.get(labels) ?? 0);
    expect(delta('{outcome="completed",source="flow"}')).toBe(1);
    expect(delta('{outcome="failed",source="flow"}')).toBe(1);
    expect(delta('{outcome="completed",source="chat"}')).toBe(1);
    expect([...after.keys()].every((labels) => /^\{outcome="[a-z]+",source="(chat|flow)"\}$/.test(labels))).toBe(true);
  });
});
