import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraceIds } from '../../src/observability/run-trace.js';
import { client, createTestContext, injectRequest, type TestContext } from '../helpers/harness.js';
import { pollUntil } from '../helpers/sse-client.js';

/**
 * Traces of a demo-model run that calls a tool: `invoke_agent` over `chat` and `execute_tool`
 * spans with the GenAI semantic conventions' attributes; OTLP/HTTP to a real loopback receiver;
 * and `/metrics` behind METRICS_TOKEN. Logs of a run carry its ids (JSON lines, captured).
 */

const exporter = new InMemorySpanExporter();
let context: TestContext;
beforeAll(async () => {
  context = await createTestContext({ spanExporter: exporter });
});
afterAll(async () => {
  await context.close();
});

async function askCalculator(target: TestContext) {
  const organization = await target.newOrganization();
  const api = client(target, organization.key);
  const agent = await api.createAgent({
    name: 'Maths helper',
    configuration: { model: 'demo', tools: ['calculator'] },
  });
  const thread = await api.createThread(agent.id);
  const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
    role: 'user',
    content: 'What is 6 * 7?',
  });
  expect(reply.status).toBe(200);
  return { agent, thread, reply };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('traces', () => {
  it('records a run as invoke_agent over its chat and execute_tool spans, with GenAI attributes', async () => {
    exporter.reset();
    const { agent, thread, reply } = await askCalculator(context);
    const runId = reply.body.metadata.run_id;
    const spans = await pollUntil(() => {
      const finished = exporter.getFinishedSpans();
      return finished.some((span) => span.name.startsWith('invoke_agent')) ? finished : undefined;
    });
    expect(spans.map((span) => span.name).sort()).toEqual([
      'chat demo',
      'chat demo',
      'execute_tool calculator',
      'invoke_agent Maths helper',
    ]);
    const root = spans.find((span) => span.name === 'invoke_agent Maths helper')!;
    expect(parentOf(root)).toBeUndefined();
    // The run's trace is named by its id: any process resuming it continues this trace.
    expect(root.spanContext()).toMatchObject(runTraceIds(runId));
    for (const span of spans.filter((candidate) => candidate !== root)) {
      expect(parentOf(span), span.name).toBe(root.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(root.spanContext().traceId);
    }
    const usage = reply.body.metadata.usage;
    expect(root.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'parley',
      'gen_ai.system': 'parley',
      'gen_ai.request.model': 'demo',
      'gen_ai.agent.id': agent.id,
      'gen_ai.agent.name': 'Maths helper',
      'gen_ai.conversation.id': thread.id,
      'parley.run.id': runId,
      'parley.run.resumed': false,
      'parley.run.status': 'completed',
      'gen_ai.usage.input_tokens': usage.input_tokens,
      'gen_ai.usage.output_tokens': usage.output_tokens,
    });
    const chats = spans.filter((span) => span.name === 'chat demo');
    const [first, second] = [...chats].sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    expect(first!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'parley',
      'gen_ai.system': 'parley',
      'gen_ai.request.model': 'demo',
      'gen_ai.response.finish_reasons': ['tool-calls'],
    });
    expect(second!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    const tokens = (name: string) => chats.reduce((sum, span) => sum + Number(span.attributes[name]), 0);
    expect(tokens('gen_ai.usage.input_tokens')).toBe(usage.input_tokens);
    expect(tokens('gen_ai.usage.output_tokens')).toBe(usage.output_tokens);
    const tool = spans.find((span) => span.name === 'execute_tool calculator')!;
    const [call] = reply.body.tool_calls;
    expect(tool.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'calculator',
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.id': 'call_demo_1',
      'parley.tool.kind': 'built_in',
    });
    expect(call.tool_name).toBe('calculator');
    // The tool ran between the two model calls, inside the run.
    const start = (span: ReadableSpan) => span.startTime[0] * 1e9 + span.startTime[1];
    expect(start(tool)).toBeGreaterThanOrEqual(start(first!));
    expect(start(second!)).toBeGreaterThanOrEqual(start(tool));
  });

  it('writes runId, threadId and agentId in every log line of a run', async () => {
    const before = context.logs.length;
    const { agent, thread, reply } = await askCalculator(context);
    const runId = reply.body.metadata.run_id;
    const lines = await pollUntil(() => {
      const parsed = context.logs.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
      return parsed.some((line) => line.runId === runId && line.msg === 'run ended') ? parsed : undefined;
    });
    const ofRun = lines.filter((line) => line.runId === runId);
    expect(ofRun.map((line) => line.msg)).toEqual(['run started', 'tool call ended', 'run ended']);
    for (const line of ofRun) expect(line).toMatchObject({ runId, threadId: thread.id, agentId: agent.id });
    // Request lines carry Fastify's request id; the run belongs to no request and has its own ids.
    const requests = lines.filter((line) => line.msg === 'request completed');
    expect(requests.length).toBeGreaterThan(0);
    for (const line of requests) expect(line.reqId).toEqual(expect.any(String));
  });
});

describe('OTLP/HTTP export', () => {
  it('POSTs the spans of a run to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces when the app closes', async () => {
    const received: { method: string; url: string; type: string; body: any }[] = [];
    const receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({
          method: request.method ?? '',
          url: request.url ?? '',
          type: String(request.headers['content-type']),
          body: JSON.parse(body),
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const exporting = await createTestContext({ observability: { otlpTracesUrl: `${endpoint}/v1/traces` } });
    try {
      await askCalculator(exporting);
    } finally {
      // Closing the app shuts its tracer down, which sends what the batch processor holds.
      await exporting.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
    expect(received.length).toBeGreaterThan(0);
    for (const request of received) {
      expect(request).toMatchObject({ method: 'POST', url: '/v1/traces', type: 'application/json' });
    }
    const spans = received.flatMap((request) =>
      request.body.resourceSpans.flatMap((resource: any) => resource.scopeSpans.flatMap((scope: any) => scope.spans)),
    );
    expect(spans.map((span: any) => span.name).sort()).toEqual([
      'chat demo',
      'chat demo',
      'execute_tool calculator',
      'invoke_agent Maths helper',
    ]);
    const resource = received[0]!.body.resourceSpans[0].resource.attributes;
    expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'parley' } });
  });

  it('reads the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, or the traces endpoint as given', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig({}).observability.otlpTracesUrl).toBeUndefined();
    const base = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).observability;
    expect(base.otlpTracesUrl).toBe('http://collector:4318/v1/traces');
    const signal = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/custom',
    }).observability;
    expect(signal.otlpTracesUrl).toBe('https://traces.example/custom');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

describe('METRICS_TOKEN', () => {
  const token = 'metrics-token-0123456789abcdef';
  let guarded: TestContext;
  beforeAll(async () => {
    guarded = await createTestContext({ observability: { metricsToken: token } });
  });
  afterAll(async () => {
    await guarded.close();
  });

  it('answers 401 invalid_metrics_token without the bearer token, and the metrics with it', async () => {
    const scrape = (headers: Record<string, string>) =>
      injectRequest(guarded, { method: 'GET', url: '/metrics', headers });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: `Basic ${token}` },
    ];
    for (const headers of attempts) {
      const refused = await scrape(headers);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('invalid_metrics_token');
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    }
    const allowed = await scrape({ authorization: `Bearer ${token}` });
    expect(allowed.status).toBe(200);
    expect(allowed.raw).toContain('# TYPE parley_runs_total counter');
    // Without a token configured (the other suites' apps) the endpoint stays public.
    expect((await injectRequest(context, { method: 'GET', url: '/metrics' })).status).toBe(200);
  });
});
