import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { growingRegistry, say, type ScriptAction } from '../fixtures/scripted-model.js';
import type { LanguageModel, ModelRequest, ModelStreamPart } from '../../src/models/model-port.js';
import { client, createTestContext, type Api, type TestContext, type TestOrganization } from '../helpers/harness.js';
import { createFlow, eventually, execute, waitForExecution } from '../helpers/flows.js';
import { expectError } from '../helpers/routes.js';

/**
 * PATCH /flows/executions/{id} and its audit, the list's filters and cursors, the agent's flow
 * counters, and priority order on a worker that runs one job at a time.
 */
const models = growingRegistry('flow-updates');
let context: TestContext;
let organization: TestOrganization;
let admin: Api;
let writer: Api;

/** A model that records each task it is given and, for the task `gate`, waits until `open()`. */
function recordingModel(id: string) {
  const tasks: string[] = [];
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const model: LanguageModel = {
    id,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamPart> {
      const first = request.messages[0];
      const task = first && 'content' in first ? first.content : '';
      tasks.push(task);
      if (task === 'gate') await gate;
      yield { type: 'text-delta', text: `did ${task}` };
      yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
  return { model, tasks, open: () => open() };
}

const recorder = recordingModel('recording:flow-updates');

beforeAll(async () => {
  models.add(recorder.model);
  context = await createTestContext({ models: models.registry, jobs: { workerConcurrency: 1 } });
  organization = await context.newOrganization();
  admin = client(context, organization.key);
  writer = client(context, await organization.keyWith(['read', 'write']));
});
afterAll(() => context?.close());

async function completedExecution(steps: ScriptAction[][] = [say('Finished.')]) {
  const agent = await admin.createAgent({ configuration: { model: models.script(steps).id } });
  const flow = await createFlow(admin, agent.id);
  return { agentId: agent.id, flow, execution: await waitForExecution(admin, (await execute(admin, flow.id)).id) };
}

describe('PATCH /api/v1/flows/executions/{id}', () => {
  it('merges metadata and performance_metrics for a write key and audits each change', async () => {
    const { execution } = await completedExecution();
    const url = `/api/v1/flows/executions/${execution.id}`;
    const first = await writer.patch(url, { metadata: { reviewed: true }, performance_metrics: { score: 0.9 } });
    expect(first.status).toBe(200);
    const second = await writer.patch(url, { metadata: { reviewer: 'ada' }, error_message: 'noted' });
    expect(second.body.metadata).toEqual({ reviewed: true, reviewer: 'ada' });
    expect(second.body.performance_metrics).toMatchObject({ score: 0.9, model_calls: 1 });
    expect(second.body.error_message).toBe('noted');
    const changes = await admin.get(`${url}/changes`);
    expect(changes.status).toBe(200);
    const writeKeyId = changes.body[0].key_id;
    expect(writeKeyId).not.toBe(organization.keyId);
    expect(
      changes.body.map((change: any) => [change.field, change.old_value, change.new_value, change.key_id]),
    ).toEqual([
      ['metadata', {}, { reviewed: true }, writeKeyId],
      [
        'performance_metrics',
        execution.performance_metrics,
        { ...execution.performance_metrics, score: 0.9 },
        writeKeyId,
      ],
      ['metadata', { reviewed: true }, { reviewed: true, reviewer: 'ada' }, writeKeyId],
      ['error_message', null, 'noted', writeKeyId],
    ]);
  });

  it.each(['status', 'tokens_used', 'cost_estimate', 'tool_calls_count', 'duration_ms', 'retry_count', 'completed_at'])(
    'needs an admin key to set %s (403 for a write key, nothing stored)',
    async (field) => {
      const { execution } = await completedExecution();
      const value = field === 'status' ? 'failed' : field === 'completed_at' ? '2031-01-01T00:00:00Z' : 7;
      const url = `/api/v1/flows/executions/${execution.id}`;
      expectError(await writer.patch(url, { [field]: value, metadata: { sneaky: true } }), 403, 'insufficient_scope');
      expect((await admin.get(url)).body).toEqual(execution);
      expect((await admin.get(`${url}/changes`)).body).toEqual([]);
      const allowed = await admin.patch(url, { [field]: value });
      expect(allowed.status).toBe(200);
      expect(allowed.body[field]).toEqual(field === 'completed_at' ? '2031-01-01T00:00:00Z' : value);
    },
  );

  it.each(['pending', 'queued', 'running', 'retrying'])(
    'never sets a finished execution back to %s (409)',
    async (status) => {
      const { execution } = await completedExecution();
      const url = `/api/v1/flows/executions/${execution.id}`;
      expectError(await admin.patch(url, { status }), 409, 'flow_execution_finished');
      expect((await admin.get(url)).body.status).toBe('completed');
      // Between finished statuses an admin may correct it.
      expect((await admin.patch(url, { status: 'failed', error_message: 'judged wrong' })).body.status).toBe('failed');
    },
  );

  it('patches a chat run too, and answers 404 to another organisation', async () => {
    const agent = await admin.createAgent();
    const thread = await admin.createThread(agent.id);
    await admin.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, { role: 'user', content: 'Hi' });
    const run = (await admin.get(`/api/v1/flows/executions?agent_id=${agent.id}`)).body.executions[0];
    const patched = await writer.patch(`/api/v1/flows/executions/${run.id}`, { metadata: { label: 'x' } });
    expect(patched.body.metadata).toMatchObject({ thread_id: thread.id, label: 'x' });
    const other = client(context, (await context.newOrganization()).key);
    expectError(
      await other.patch(`/api/v1/flows/executions/${run.id}`, { metadata: {} }),
      404,
      'flow_execution_not_found',
    );
    expectError(await other.get(`/api/v1/flows/executions/${run.id}/changes`), 404, 'flow_execution_not_found');
  });
});

describe('GET /api/v1/flows/executions', () => {
  it('filters by flow, status and start time, and pages with cursors', async () => {
    const { flow, agentId } = await completedExecution([say('One.')]);
    const ids = [(await admin.get(`/api/v1/flows/executions?flow_id=${flow.id}`)).body.executions[0].id];
    for (let index = 0; index < 3; index += 1)
      ids.push((await waitForExecution(admin, (await execute(admin, flow.id)).id)).id);
    const newestFirst = [...ids].reverse();
    const list = await admin.get(`/api/v1/flows/executions?flow_id=${flow.id}&status=completed`);
    expect(list.body).toMatchObject({ total_count: 4, page: 1, page_size: 20, has_more: false });
    expect(list.body.executions.map((execution: any) => execution.id)).toEqual(newestFirst);
    const page = await admin.get(`/api/v1/flows/executions?agent_id=${agentId}&page_size=2&after=${newestFirst[0]}`);
    expect(page.body.executions.map((execution: any) => execution.id)).toEqual(newestFirst.slice(1, 3));
    expect(page.body.has_more).toBe(true);
    const last = await admin.get(`/api/v1/flows/executions?agent_id=${agentId}&page_size=2&after=${newestFirst[1]}`);
    expect(last.body.executions.map((execution: any) => execution.id)).toEqual(newestFirst.slice(2));
    expect(last.body.has_more).toBe(false);
    const before = await admin.get(`/api/v1/flows/executions?flow_id=${flow.id}&page_size=2&before=${newestFirst[3]}`);
    expect(before.body.executions.map((execution: any) => execution.id)).toEqual(newestFirst.slice(1, 3));
    expect(before.body.has_more).toBe(true);
    const first = await admin.get(`/api/v1/flows/executions?flow_id=${flow.id}&page_size=2&before=${newestFirst[2]}`);
    expect(first.body.executions.map((execution: any) => execution.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.has_more).toBe(false);
    const offsetPage = await admin.get(`/api/v1/flows/executions?flow_id=${flow.id}&page_size=3&page=2`);
    expect(offsetPage.body).toMatchObject({ page: 2, has_more: false, total_count: 4 });
    expect(offsetPage.body.executions.map((execution: any) => execution.id)).toEqual(newestFirst.slice(3));
    const third = list.body.executions[2];
    const range = await admin.get(
      `/api/v1/flows/executions?flow_id=${flow.id}&started_after=${encodeURIComponent(third.started_at)}`,
    );
    expect(range.body.executions.map((execution: any) => execution.id)).toEqual(newestFirst.slice(0, 3));
    const none = await admin.get(`/api/v1/flows/executions?flow_id=${flow.id}&status=failed`);
    expect(none.body).toMatchObject({ total_count: 0, executions: [] });
    const foreign = await admin.get(`/api/v1/flows/executions?after=00000000-0000-7000-8000-000000000000`);
    expect(foreign.status).toBe(422);
    expect(foreign.body.detail[0].loc).toEqual(['query', 'after']);
  });
});

describe('priority and the agent counters', () => {
  it('runs the urgent execution first when several wait for one worker, and counts them on the agent', async () => {
    const agent = await admin.createAgent({ configuration: { model: recorder.model.id } });
    const flow = await createFlow(admin, agent.id, {
      instructions: '{{task}}',
      variables: [{ name: 'task', type: 'string' }],
    });
    const gate = await execute(admin, flow.id, { variables: { task: 'gate' } });
    await eventually(() => recorder.tasks.includes('gate'), 'the gate execution running');
    const queued = [];
    for (const priority of ['low', 'normal', 'high', 'urgent', 'normal']) {
      queued.push(await execute(admin, flow.id, { variables: { task: priority }, priority }));
    }
    const counting = await admin.get(`/api/v1/agents/${agent.id}`);
    expect(counting.body).toMatchObject({ pending_flows_count: 6, completed_flows_count: 0 });
    recorder.open();
    for (const execution of [gate, ...queued]) await waitForExecution(admin, execution.id);
    expect(recorder.tasks).toEqual(['gate', 'urgent', 'high', 'normal', 'normal', 'low']);
    const counted = await admin.get(`/api/v1/agents/${agent.id}`);
    expect(counted.body).toMatchObject({ pending_flows_count: 0, completed_flows_count: 6 });
    // Chat runs are not flows' executions: the counters stay.
    const thread = await admin.createThread(agent.id);
    await admin.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, { role: 'user', content: 'chat' });
    const listed = (await admin.get('/api/v1/agents?limit=100')).body.find((item: any) => item.id === agent.id);
    expect(listed).toMatchObject({ pending_flows_count: 0, completed_flows_count: 6 });
  });
});
