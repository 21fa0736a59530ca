import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { growingRegistry, say } from '../fixtures/scripted-model.js';
import { InMemorySpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { runTraceIds } from '../../src/observability/run-trace.js';
import { client, createTestContext, type TestContext, type TestPeer } from '../helpers/harness.js';
import { createFlow, eventually, execute, waitForExecution } from '../helpers/flows.js';

/**
 * Flow executions across processes: this app only serves the API (WORKER_CONCURRENCY=0); peers on
 * the same database run the jobs. A cancel commits the execution `cancelled` and its job
 * `cancelled`; the peer's handler sees it (its cancel check, or its lease renewal failing) and
 * stops the model call. A peer that shuts down gives a running execution's job back; another
 * runs the execution again.
 */
const models = growingRegistry('flow-peers');
const workerJobs = { ...loadConfig({}).jobs, workerConcurrency: 1 };
let context: TestContext;
// At most one peer with a worker at a time, so which process runs a job is known.
let peer: TestPeer | undefined;

const exporter = new InMemorySpanExporter();
// Every app (and peer) of the suite exports here; a closing peer shuts its provider down, which
// must not stop the shared in-memory exporter.
const sharedExporter: SpanExporter = {
  export: (spans, done) => exporter.export(spans, done),
  shutdown: () => Promise.resolve(),
};
beforeAll(async () => {
  context = await createTestContext({
    models: models.registry,
    jobs: { workerConcurrency: 0 },
    spanExporter: sharedExporter,
  });
});
afterAll(async () => {
  await peer?.close();
  await context?.close();
});

async function replacePeer(): Promise<TestPeer> {
  await peer?.close();
  peer = await context.peer({ jobs: workerJobs });
  return peer;
}

it('stops an execution that runs in another process', async () => {
  await replacePeer();
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

it('runs again, in another process, an execution whose process shut down mid-run', async () => {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  // The first call hangs (until the shutdown aborts it); the next answers.
  const model = models.script([[{ type: 'hang' }], say('Second time lucky.')]);
  const agent = await api.createAgent({ configuration: { model: model.id } });
  const flow = await createFlow(api, agent.id);
  await replacePeer();
  const execution = await execute(api, flow.id);
  await eventually(() => model.requests.length === 1, 'the model call in the first peer');
  await peer!.close();
  peer = undefined;
  // Given back, not failed: the execution is still running and its job queued for another worker.
  expect((await api.get(`/api/v1/flows/executions/${execution.id}`)).body.status).toBe('running');
  const stored = await context.store.runs.get({ organizationId: organization.organizationId, id: execution.id });
  const job = await context.store.jobs.get({ organizationId: organization.organizationId, id: stored!.job_id! });
  expect(job).toMatchObject({ status: 'queued', attempts: 0 });
  await replacePeer();
  const done = await waitForExecution(api, execution.id);
  expect(done).toMatchObject({ status: 'completed', final_output: { text: 'Second time lucky.' }, retry_count: 0 });
  expect(model.requests).toHaveLength(2);
  // One trace for both attempts: the second process's invoke_agent span is a child of the first's.
  const ids = runTraceIds(execution.id);
  const spans = exporter
    .getFinishedSpans()
    .filter((span) => span.name.startsWith('invoke_agent') && span.attributes['parley.run.id'] === execution.id);
  expect(spans.map((span) => span.attributes['parley.run.resumed'])).toEqual([false, true]);
  const [first, second] = spans;
  expect(first!.spanContext()).toMatchObject(ids);
  expect(second!.spanContext().traceId).toBe(ids.traceId);
  expect(second!.parentSpanContext?.spanId).toBe(ids.spanId);
  expect(second!.attributes['parley.run.status']).toBe('completed');
});
