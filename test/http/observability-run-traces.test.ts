import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraceIds } from '../../src/observability/run-trace.js';
import { BUILTIN_TOOLS } from '../../src/tools/builtin/index.js';
import type { Tool } from '../../src/tools/tool.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { createFlow, execute, waitForExecution } from '../helpers/flows.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { pollUntil } from '../helpers/sse-client.js';

/**
 * The trace of a run is named by the run's id (src/observability/run-trace.ts): a flow execution
 * is an `invoke_agent` span over its model and tool spans, as a chat run is, in the trace
 * `runTraceIds(execution id)`; a chat run that waits for an approval and goes on is two
 * `invoke_agent` stretches in one trace, the second a child of the first.
 */

const exporter = new InMemorySpanExporter();
const models = growingRegistry('run-traces');
const sendMail: Tool = {
  name: 'send_mail',
  description: 'Sends an e-mail.',
  inputSchema: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] },
  requiresApproval: true,
  async execute(input) {
    return { sent: input.to };
  },
};
let context: TestContext;
beforeAll(async () => {
  context = await createTestContext({
    spanExporter: exporter,
    models: models.registry,
    tools: new Map<string, Tool>([...BUILTIN_TOOLS, [sendMail.name, sendMail]]),
  });
});
afterAll(async () => {
  await context.close();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const agentSpansOf = (runId: string) =>
  exporter
    .getFinishedSpans()
    .filter((span) => span.name.startsWith('invoke_agent') && span.attributes['parley.run.id'] === runId);

describe('run traces', () => {
  it('records a flow execution as invoke_agent over its chat and execute_tool spans, in its own trace', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({
      name: 'Flow maths',
      configuration: { model: 'demo', tools: ['calculator'] },
    });
    const flow = await createFlow(api, agent.id, { instructions: 'What is 6 * 7?', tools: ['calculator'] });
    const execution = await execute(api, flow.id);
    expect((await waitForExecution(api, execution.id)).status).toBe('completed');
    const [root] = await pollUntil(() => {
      const found = agentSpansOf(execution.id);
      return found.length > 0 ? found : undefined;
    });
    const ids = runTraceIds(execution.id);
    expect(root!.name).toBe('invoke_agent Flow maths');
    expect(root!.spanContext()).toMatchObject(ids);
    expect(parentOf(root!)).toBeUndefined();
    expect(root!.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': agent.id,
      'parley.run.id': execution.id,
      'parley.flow.id': flow.id,
      'parley.run.resumed': false,
      'parley.run.status': 'completed',
    });
    expect(root!.attributes['gen_ai.conversation.id']).toBeUndefined();
    const children = exporter.getFinishedSpans().filter((span) => parentOf(span) === ids.spanId);
    expect(children.map((span) => span.name).sort()).toEqual(['chat demo', 'chat demo', 'execute_tool calculator']);
    for (const child of children) expect(child.spanContext().traceId).toBe(ids.traceId);
  });

  it('keeps a run that waited for an approval in one trace: the stretch after it is a child of the first', async () => {
    const model = models.script([
      callTools({ name: 'send_mail', input: { to: 'a@example.test' }, id: 'call_mail' }),
      say('Sent.'),
    ]);
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ name: 'Mailer', configuration: { model: model.id, tools: ['send_mail'] } });
    const thread = await api.createThread(agent.id);
    const path = `/api/v1/chat/${agent.id}/threads/${thread.id}`;
    const asked = await api.post(`${path}/messages`, { role: 'user', content: 'Mail a' });
    expect(asked.status).toBe(200);
    const runId = asked.body.metadata.run_id as string;
    const approved = await api.post(`${path}/runs/${runId}/tool-calls/call_mail/approve`, {});
    expect(approved.status).toBe(200);
    const spans = await pollUntil(() => {
      const found = agentSpansOf(runId);
      return found.some((span) => span.attributes['parley.run.status'] === 'completed') ? found : undefined;
    });
    const ids = runTraceIds(runId);
    const first = spans.find((span) => span.attributes['parley.run.resumed'] === false)!;
    const second = spans.find((span) => span.attributes['parley.run.resumed'] === true)!;
    expect(spans).toHaveLength(2);
    expect(first.spanContext()).toMatchObject(ids);
    expect(first.attributes['parley.run.status']).toBe('pending');
    expect(second.spanContext().traceId).toBe(ids.traceId);
    expect(parentOf(second)).toBe(ids.spanId);
    expect(second.attributes['parley.run.status']).toBe('completed');
    const tool = exporter.getFinishedSpans().find((span) => span.name === 'execute_tool send_mail')!;
    expect(parentOf(tool)).toBe(second.spanContext().spanId);
  });
});
