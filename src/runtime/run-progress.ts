import type { ExecutionStep, ToolCall } from '../domain/models.js';
import type { RunCheckpoint, TranscriptEntry, TranscriptToolCall } from '../domain/runs.js';
import type { ModelToolCall, ModelUsage } from '../models/model-port.js';

/**
 * A run's state between model calls. At a step boundary all of it but `toolCalls` (which are
 * stored as they happen) goes into a `RunCheckpoint`, and a run rebuilt from one goes on exactly
 * where it stopped.
 */
export interface RunProgress {
  /** The model call to make next (1-based). */
  nextStep: number;
  text: string;
  usage: ModelUsage;
  steps: ExecutionStep[];
  toolCalls: ToolCall[];
  finishReason: string;
  /** What this run added to the conversation: the model's tool calls and the tools' results. */
  transcript: TranscriptEntry[];
  /** The calls of step `nextStep` while they wait for approvals (see `RunCheckpoint`). */
  awaitingCalls?: TranscriptToolCall[] | undefined;
}

export function freshProgress(): RunProgress {
  return {
    nextStep: 1,
    text: '',
    usage: { inputTokens: 0, outputTokens: 0 },
    steps: [],
    toolCalls: [],
    finishReason: 'stop',
    transcript: [],
  };
}

export function toCheckpoint(progress: RunProgress, replyCreatedAt: string): RunCheckpoint {
  return {
    next_step: progress.nextStep,
    reply_created_at: replyCreatedAt,
    text: progress.text,
    usage: { input_tokens: progress.usage.inputTokens, output_tokens: progress.usage.outputTokens },
    finish_reason: progress.finishReason,
    steps: progress.steps,
    transcript: progress.transcript,
    ...(progress.awaitingCalls ? { awaiting_calls: progress.awaitingCalls } : {}),
  };
}

/** The progress a checkpoint describes; `toolCalls` are the ones stored on the reply. */
export function fromCheckpoint(checkpoint: RunCheckpoint, toolCalls: ToolCall[]): RunProgress {
  return {
    nextStep: checkpoint.next_step,
    text: checkpoint.text,
    usage: { inputTokens: checkpoint.usage.input_tokens, outputTokens: checkpoint.usage.output_tokens },
    steps: checkpoint.steps,
    toolCalls,
    finishReason: checkpoint.finish_reason,
    transcript: checkpoint.transcript,
    awaitingCalls: checkpoint.awaiting_calls,
  };
}

export function modelStep(input: {
  step: number;
  started: Date;
  ended: Date;
  model: string;
  text: string;
  calls: ModelToolCall[];
  usage: ModelUsage;
}): ExecutionStep {
  return {
    step_id: `model-${input.step}`,
    step_name: `Model call ${input.step}`,
    step_type: 'llm',
    status: 'completed',
    started_at: input.started.toISOString(),
    tool_name: null,
    input_data: { model: input.model },
    output_data: { text: input.text, tool_calls: input.calls.map((call) => call.toolName) },
    error_message: null,
    completed_at: input.ended.toISOString(),
    duration_ms: input.ended.getTime() - input.started.getTime(),
    retry_count: 0,
    metadata: { input_tokens: input.usage.inputTokens, output_tokens: input.usage.outputTokens },
  };
}

export function toolStep(record: ToolCall, toolCallId: string): ExecutionStep {
  return {
    step_id: `tool-${toolCallId}`,
    step_name: `Tool ${record.tool_name}`,
    step_type: 'tool',
    status: record.error === null ? 'completed' : 'failed',
    started_at: record.start_time,
    tool_name: record.tool_name,
    input_data: record.arguments,
    output_data: record.error === null ? { result: record.result } : {},
    error_message: record.error,
    completed_at: record.end_time,
    duration_ms: record.end_time === null ? null : Date.parse(record.end_time) - Date.parse(record.start_time),
    retry_count: 0,
    metadata: {},
  };
}
