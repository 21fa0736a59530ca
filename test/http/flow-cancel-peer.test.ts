import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { growingRegistry } from '../fixtures/scripted-model.js';
import { client, createTestContext, type TestContext, type TestPeer } from '../helpers/harness.js';
import { createFlow, eventually, execute, waitForExecution } from '../helpers/flows.js';

/**
 * A cancel reaches an execution running in another process: this app only serves the API
 * (WORKER_CONCURRENCY=0); the peer on the same database runs the job. The cancel commits the
 * execution `cancelled` and the job `cancelled`; the peer's handler sees it (its cancel check,
 * or its lease renewal failing) and stops the model call.
 */
const models = growingRegistry('flow-cancel-peer');
let context: TestContext;
let peer: TestPeer;

beforeAll(async () => {
  context = await createTestContext({ models: models.registry, jobs: { workerConcurrency: 0 } });
  peer = await context.peer({ jobs: { ...loadConfig({}).jobs, workerConcurrency: 1 } });
});
afterAll(async () => {
  await peer?.close();
  await context?.close();
});

it('stops an execution that runs in another process', async () => {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const model = models.script([[{ type: 'hang' }]]);
  const agent = await api.createAgent({ configuration: { model: model.id } });
  const flow = await createFlow(api, agent.id);
  const running = await execute(api, flow.id);
  await waitForExecution(api, running.id, (execution) => execution.status === 'running');
  await eventually(() => model.requests.length === 1, 'the model call in the peer');
  const cancelled = await api.post(`/api/v1/flows/executions/${running.id}/cancel`, {});
  expect(cancelled.body.status).toBe('cancelled');
  const stored = await context.store.runs.get({ organizationId: organization.organizationId, id: running.id });
  const job = await context.store.jobs.get({ organizationId: organization.organizationId, id: stored!.job_id! });
  expect(job!.status).toBe('cancelled');
  // The peer's handler stopped and wrote its figures on the cancelled execution.
  const ended = await waitForExecution(api, running.id, (execution) => execution.duration_ms !== null);
  expect(ended).toMatchObject({ status: 'cancelled', final_output: null, performance_metrics: { model_calls: 0 } });
});
