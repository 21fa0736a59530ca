import {
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { ModelUsage } from '../models/model-port.js';
import type { ToolKind } from '../tools/tool.js';
import { NO_RUNTIME_METRICS, type RuntimeMetrics } from './metrics.js';
import { resumedParent, runTraceIds, type TraceIds } from './run-trace.js';

/**
 * What the runtime reports to: the app's metrics and tracer, and the span new spans hang under.
 * The app's is at the root; each run gets its own, under its `invoke_agent` span, in the
 * run-scoped dependencies (run-agent.ts), so a model or tool span finds its parent without a
 * context manager or any global.
 */
export interface Telemetry {
  readonly metrics: RuntimeMetrics;
  readonly tracer: Tracer;
  readonly parent: Context;
  /** Starts the span `start` starts with these ids; absent: ids are random (run-trace.ts). */
  readonly withIds?: (<T>(ids: TraceIds, start: () => T) => T) | undefined;
}

export const NO_TELEMETRY: Telemetry = {
  metrics: NO_RUNTIME_METRICS,
  tracer: new ProxyTracerProvider().getTracer('parley'),
  parent: ROOT_CONTEXT,
};

// The GenAI semantic conventions' attribute names (still "development" in
// @opentelemetry/semantic-conventions, whose docs advise copying them rather than importing).
const OPERATION = 'gen_ai.operation.name';
const PROVIDER = 'gen_ai.provider.name';
const SYSTEM = 'gen_ai.system';
const REQUEST_MODEL = 'gen_ai.request.model';
const INPUT_TOKENS = 'gen_ai.usage.input_tokens';
const OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';

/** `openai:gpt-4.1-mini` → provider `openai`, model `gpt-4.1-mini`; the demo model is Parley's own. */
export function modelParts(modelId: string): { provider: string; model: string } {
  const colon = modelId.indexOf(':');
  if (colon < 0) return { provider: 'parley', model: modelId };
  return { provider: modelId.slice(0, colon), model: modelId.slice(colon + 1) };
}

/**
 * The `invoke_agent <agent name>` span of one run or flow execution (or one resumed stretch of
 * it): in the run's own trace (run-trace.ts), the first stretch with the run's ids, a resumed
 * one as its child.
 */
export function startAgentSpan(
  telemetry: Telemetry,
  run: {
    agentId: string;
    agentName: string;
    runId: string;
    /** Absent for a flow execution, which has no thread. */
    threadId?: string | undefined;
    flowId?: string | undefined;
    modelId: string;
    resumed: boolean;
  },
): { span: Span; telemetry: Telemetry } {
  const { provider, model } = modelParts(run.modelId);
  const root = trace.getSpanContext(telemetry.parent) === undefined;
  const start = (parent: Context) =>
    telemetry.tracer.startSpan(`invoke_agent ${run.agentName}`, agentSpanOptions(run, provider, model), parent);
  let span: Span;
  if (!root) span = start(telemetry.parent);
  else if (run.resumed) span = start(resumedParent(telemetry.parent, run.runId));
  else if (telemetry.withIds) span = telemetry.withIds(runTraceIds(run.runId), () => start(telemetry.parent));
  else span = start(telemetry.parent);
  return { span, telemetry: { ...telemetry, parent: trace.setSpan(telemetry.parent, span) } };
}

function agentSpanOptions(
  run: Parameters<typeof startAgentSpan>[1],
  provider: string,
  model: string,
): Parameters<Tracer['startSpan']>[1] {
  return {
    kind: SpanKind.INTERNAL,
    attributes: {
      [OPERATION]: 'invoke_agent',
      [PROVIDER]: provider,
      [SYSTEM]: provider,
      [REQUEST_MODEL]: model,
      'gen_ai.agent.id': run.agentId,
      'gen_ai.agent.name': run.agentName,
      'parley.run.id': run.runId,
      'parley.run.resumed': run.resumed,
      ...(run.threadId === undefined ? {} : { 'gen_ai.conversation.id': run.threadId }),
      ...(run.flowId === undefined ? {} : { 'parley.flow.id': run.flowId }),
    },
  };
}

/** Ends a run's span with its status and usage; a failed or timed-out run is an error. */
export function endAgentSpan(span: Span, end: { status: string; usage: ModelUsage; errorCode?: string | undefined }) {
  span.setAttributes({
    'parley.run.status': end.status,
    [INPUT_TOKENS]: end.usage.inputTokens,
    [OUTPUT_TOKENS]: end.usage.outputTokens,
  });
  if (end.status === 'failed' || end.status === 'timeout') {
    span.setAttribute('error.type', end.errorCode ?? end.status);
    span.setStatus({ code: SpanStatusCode.ERROR, message: end.errorCode ?? end.status });
  }
  span.end();
}

/** What a model call's span records once its stream ends. */
export interface ModelCallEnd {
  usage: ModelUsage;
  finishReason: string;
}

/** Runs one model call in a `chat <model>` span; its tokens are counted whether or not it is traced. */
export async function traceModelCall<T extends ModelCallEnd>(
  telemetry: Telemetry,
  call: { modelId: string; temperature: number | undefined },
  work: () => Promise<T>,
): Promise<T> {
  const { provider, model } = modelParts(call.modelId);
  const attributes = { [OPERATION]: 'chat', [PROVIDER]: provider, [SYSTEM]: provider, [REQUEST_MODEL]: model };
  const span = telemetry.tracer.startSpan(`chat ${model}`, { kind: SpanKind.CLIENT, attributes }, telemetry.parent);
  if (call.temperature !== undefined) span.setAttribute('gen_ai.request.temperature', call.temperature);
  try {
    const result = await work();
    telemetry.metrics.modelTokens(call.modelId, result.usage);
    span.setAttributes({
      [INPUT_TOKENS]: result.usage.inputTokens,
      [OUTPUT_TOKENS]: result.usage.outputTokens,
      'gen_ai.response.finish_reasons': [result.finishReason],
    });
    return result;
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The semantic conventions' `gen_ai.tool.type` of each kind of tool. */
const TOOL_TYPES: Record<ToolKind, string> = {
  built_in: 'function',
  external_tool: 'extension',
  mcp_server: 'extension',
};

/** Runs one tool call in an `execute_tool <name>` span, and counts it by kind and outcome. */
export async function traceToolCall(
  telemetry: Telemetry,
  call: { toolName: string; toolCallId: string | undefined; kind: ToolKind },
  work: () => Promise<{ ok: boolean; error?: string | null }>,
): Promise<void> {
  const span = telemetry.tracer.startSpan(
    `execute_tool ${call.toolName}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        [OPERATION]: 'execute_tool',
        'gen_ai.tool.name': call.toolName,
        'gen_ai.tool.type': TOOL_TYPES[call.kind],
        'parley.tool.kind': call.kind,
        ...(call.toolCallId === undefined ? {} : { 'gen_ai.tool.call.id': call.toolCallId }),
      },
    },
    telemetry.parent,
  );
  try {
    const outcome = await work();
    telemetry.metrics.toolCall(call.kind, outcome.ok ? 'ok' : 'error');
    if (!outcome.ok) {
      span.setAttribute('error.type', 'tool_error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error ?? 'tool error' });
    }
  } finally {
    span.end();
  }
}

function failSpan(span: Span, error: unknown): void {
  span.setAttribute('error.type', error instanceof Error ? error.name : 'error');
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
