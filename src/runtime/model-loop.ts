import type { ModelMessage, ModelRequest, ModelToolCall, ModelUsage } from '../models/model-port.js';
import { toModelMessages } from './run-history.js';
import { modelStep, type RunProgress } from './run-progress.js';
import type { RunPlan, RuntimeDependencies } from './run-types.js';
import { buildSystemPrompt } from './system-prompt.js';
import { callTool } from './tool-calls.js';
import { needsApproval, requestApprovals, runAwaitedCalls } from './approval-requests.js';
import { StorableTextStream, storableJson, storableText } from '../domain/storable-text.js';
import type { TranscriptEntry, TranscriptToolCall } from '../domain/runs.js';
import { NO_TELEMETRY, traceModelCall } from '../observability/run-telemetry.js';

const HISTORY_LIMIT = 100;

/** Told to the model in the description of each tool that needs approval. */
export const APPROVAL_NOTE =
  '(Requires approval: each call waits until a person approves or rejects it; a rejected call returns the reason instead of a result.)';

/**
 * How the loop stopped: the reply is complete, it stopped at a step boundary to go on later, or
 * it stopped before a step's tool calls to wait for approvals (stored already, see
 * approval-requests.ts).
 */
export type LoopEnd = 'finished' | 'paused' | 'awaiting_approval';

/**
 * The model/tool loop of one run: model → tools (in parallel) → model … up to `maxSteps` model
 * calls, from wherever `progress` stands. Between two model calls (a step boundary) the whole
 * state is in `progress`, and `pauseRequested` may stop the loop there. Model errors and aborts
 * are thrown; tool failures are results for the model.
 */
export async function runSteps(input: {
  dependencies: RuntimeDependencies;
  run: RunPlan;
  progress: RunProgress;
  signal: AbortSignal;
  pauseRequested: () => boolean;
}): Promise<LoopEnd> {
  const { dependencies, run } = input;
  const surface: StepSurface = {
    request: () => baseRequest(dependencies, run),
    delta: (delta, step) =>
      dependencies.eventLog.delta(run.threadId, {
        message_id: run.assistantMessageId,
        run_id: run.runId,
        step,
        delta,
      }),
    callTool: (call, progress, signal) => callTool({ dependencies, run, call, progress, signal }),
    approvals: {
      needed: (calls) => needsApproval(run, calls),
      request: (calls, progress) => requestApprovals({ dependencies, run, calls, progress }),
      runAwaited: (calls, progress, signal) => runAwaitedCalls({ dependencies, run, progress, calls, signal }),
    },
  };
  return runStepsOn({ ...input, surface });
}

/**
 * Where a loop's steps come from and go to. A chat run's (`runSteps`): the thread's history,
 * deltas on the thread's event log, tool calls stored on the reply, approvals. A flow's
 * execution (flow-runner.ts) has no thread: its own prompt, no deltas, calls kept as steps.
 */
export interface StepSurface {
  /** The parts of every model request that do not change between steps. */
  request(): Promise<Omit<ModelRequest, 'messages' | 'signal'> & { history: ModelMessage[] }>;
  delta(delta: string, step: number): void;
  callTool(call: ModelToolCall, progress: RunProgress, signal: AbortSignal): Promise<TranscriptEntry>;
  /** Calls of `requiresApproval` tools wait for a person; null: the surface offers no such tool. */
  approvals: {
    needed(calls: readonly ModelToolCall[]): boolean;
    /** Stores the step's approval requests; the loop stops there (approval-requests.ts). */
    request(calls: readonly ModelToolCall[], progress: RunProgress): Promise<void>;
    /** Runs a resumed step's calls once their approvals are decided. */
    runAwaited(calls: TranscriptToolCall[], progress: RunProgress, signal: AbortSignal): Promise<TranscriptEntry[]>;
  } | null;
}

/** What the loop needs of a run: its model and its budget of model calls. */
export type LoopRun = Pick<RunPlan, 'model' | 'maxSteps'>;

/** The loop of `runSteps` on any surface. */
export async function runStepsOn(input: {
  dependencies: RuntimeDependencies;
  run: LoopRun;
  progress: RunProgress;
  signal: AbortSignal;
  pauseRequested: () => boolean;
  surface: StepSurface;
}): Promise<LoopEnd> {
  const { dependencies, run, progress, signal, surface } = input;
  const request = await surface.request();
  for (; progress.nextStep <= run.maxSteps; progress.nextStep += 1) {
    const awaited = progress.awaitingCalls;
    if (awaited && surface.approvals) {
      // Resumed after the approvals this step waited for: its calls run now, then the next step.
      const results = await surface.approvals.runAwaited(awaited, progress, signal);
      signal.throwIfAborted();
      progress.transcript.push(...results);
      continue;
    }
    if (progress.nextStep > 1 && input.pauseRequested()) return 'paused';
    const messages: ModelMessage[] = [...request.history, ...progress.transcript];
    const { text, calls } = await callModel({
      dependencies,
      run,
      progress,
      signal,
      request: { ...request, messages },
      delta: surface.delta,
    });
    if (calls.length === 0) return 'finished';
    if (progress.nextStep === run.maxSteps) {
      // The model still wants tools but the budget is spent: stop here, and say why.
      progress.finishReason = 'max_steps';
      return 'finished';
    }
    progress.transcript.push({ role: 'assistant', content: text, toolCalls: calls });
    if (surface.approvals?.needed(calls)) {
      await surface.approvals.request(calls, progress);
      return 'awaiting_approval';
    }
    const results = await Promise.all(calls.map((call) => surface.callTool(call, progress, signal)));
    signal.throwIfAborted();
    progress.transcript.push(...results);
  }
  return 'finished';
}

/** The parts of every model request of this run that do not change between steps. */
async function baseRequest(
  dependencies: RuntimeDependencies,
  run: RunPlan,
): Promise<Omit<ModelRequest, 'messages' | 'signal'> & { history: ModelMessage[] }> {
  const history = await dependencies.store.runMessages.recent({
    organizationId: run.organizationId,
    threadId: run.threadId,
    limit: HISTORY_LIMIT + 1,
  });
  const temperature = run.agent.configuration.temperature;
  return {
    system: buildSystemPrompt(run.agent),
    history: toModelMessages(
      history.filter((message) => message.id !== run.assistantMessageId),
      dependencies.config.toolResultModelBytes,
    ),
    tools: run.tools.map((tool) => ({
      name: tool.name,
      description: tool.requiresApproval === true ? `${tool.description} ${APPROVAL_NOTE}` : tool.description,
      inputSchema: tool.inputSchema,
    })),
    temperature: typeof temperature === 'number' ? temperature : undefined,
  };
}

/** One model call: its text streams out as deltas as it comes; it is recorded as a step. */
async function callModel(input: {
  dependencies: RuntimeDependencies;
  run: LoopRun;
  progress: RunProgress;
  signal: AbortSignal;
  request: Omit<ModelRequest, 'signal'>;
  delta: StepSurface['delta'];
}): Promise<{ text: string; calls: ModelToolCall[] }> {
  const { dependencies, run, progress, signal } = input;
  const started = dependencies.clock.now();
  let text = '';
  const calls: ModelToolCall[] = [];
  const usage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
  const repaired = new StorableTextStream();
  const emit = (delta: string) => {
    if (delta === '') return;
    text += delta;
    progress.text += delta;
    input.delta(delta, progress.nextStep);
  };
  const telemetry = dependencies.telemetry ?? NO_TELEMETRY;
  const traced = { modelId: run.model.id, temperature: input.request.temperature };
  await traceModelCall(telemetry, traced, async () => {
    let finishReason = 'other';
    for await (const part of run.model.stream({ ...input.request, signal })) {
      if (part.type === 'text-delta') {
        emit(repaired.push(part.text));
      } else if (part.type === 'tool-call') {
        calls.push({ ...part, toolName: storableText(part.toolName), input: storableJson(part.input) });
      } else {
        usage.inputTokens += part.usage.inputTokens;
        usage.outputTokens += part.usage.outputTokens;
        progress.finishReason = finishReason = part.finishReason;
      }
    }
    emit(repaired.end());
    signal.throwIfAborted();
    return { usage, finishReason };
  });
  progress.usage.inputTokens += usage.inputTokens;
  progress.usage.outputTokens += usage.outputTokens;
  const ended = dependencies.clock.now();
  progress.steps.push(modelStep({ step: progress.nextStep, started, ended, model: run.model.id, text, calls, usage }));
  return { text, calls };
}
