import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { NO_RUNTIME_METRICS } from '../../src/observability/metrics.js';
import { endAgentSpan, startAgentSpan, type Telemetry } from '../../src/observability/run-telemetry.js';
import { runTraceIds } from '../../src/observability/run-trace.js';
import { createTracing } from '../../src/observability/tracing.js';
import { ROOT_CONTEXT } from '@opentelemetry/api';

/** Two processes, each with its own tracer provider: one starts a run, the other takes it over. */
function processTelemetry(exporter: InMemorySpanExporter): Telemetry {
  const tracing = createTracing({ config: loadConfig({}).observability, version: 'test', exporter });
  return { metrics: NO_RUNTIME_METRICS, tracer: tracing.tracer, parent: ROOT_CONTEXT, withIds: tracing.withIds };
}

const run = { agentId: 'agent-1', agentName: 'Worker', runId: 'exec-1', flowId: 'flow-1', modelId: 'demo' };
const usage = { inputTokens: 1, outputTokens: 1 };

describe('a run’s trace', () => {
  it('is continued by another process taking the run over: same trace, a child of the first stretch', () => {
    const first = new InMemorySpanExporter();
    const second = new InMemorySpanExporter();
    const started = startAgentSpan(processTelemetry(first), { ...run, resumed: false });
    endAgentSpan(started.span, { status: 'failed', usage, errorCode: 'interrupted' });
    const taken = startAgentSpan(processTelemetry(second), { ...run, resumed: true });
    // A model span of the stretch that took over hangs under its invoke_agent span.
    const chat = taken.telemetry.tracer.startSpan('chat demo', {}, taken.telemetry.parent);
    chat.end();
    endAgentSpan(taken.span, { status: 'completed', usage });

    const ids = runTraceIds(run.runId);
    const [a] = first.getFinishedSpans();
    const [model, b] = second.getFinishedSpans();
    expect(a!.spanContext()).toMatchObject(ids);
    expect(a!.parentSpanContext).toBeUndefined();
    expect(b!.spanContext().traceId).toBe(ids.traceId);
    expect(b!.spanContext().spanId).not.toBe(ids.spanId);
    expect(b!.parentSpanContext?.spanId).toBe(ids.spanId);
    expect(b!.attributes).toMatchObject({ 'parley.run.resumed': true, 'parley.flow.id': 'flow-1' });
    expect(model!.parentSpanContext?.spanId).toBe(b!.spanContext().spanId);
    expect(model!.spanContext().traceId).toBe(ids.traceId);
  });

  it('gives other spans random ids, and differs from run to run', () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = processTelemetry(exporter);
    telemetry.tracer.startSpan('other').end();
    const [other] = exporter.getFinishedSpans();
    expect(other!.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(other!.spanContext().traceId).not.toBe(runTraceIds(run.runId).traceId);
    expect(runTraceIds('exec-2').traceId).not.toBe(runTraceIds(run.runId).traceId);
    expect(runTraceIds('exec-2')).toEqual(runTraceIds('exec-2'));
  });
});
