import type { ModelMessage, ModelRequest, ModelToolCall, ModelUsage } from '../models/model-port.js';
import { toModelMessages } from './run-history.js';
import { modelStep, type RunProgress } from './run-progress.js';
import type { RunPlan, RuntimeDependencies } from './run-types.js';
import { buildSystemPrompt } from './system-prompt.js';
import { callTool } from './tool-calls.js';
import { needsApproval, requestApprovals, runAwaitedCalls } from './approval-requests.js';
import { StorableTextStream, storableJson, storableText } from '../domain/storable-text.js';

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
  const { dependencies, run, progress, signal } = input;
  const request = await baseRequest(dependencies, run);
  for (; progress.nextStep <= run.maxSteps; progress.nextStep += 1) {
    const awaited = progress.awaitingCalls;
    if (awaited) {
      // Resumed after the approvals this step waited for: its calls run now, then the next step.
      const results = await runAwaitedCalls({ dependencies, run, progress, calls: awaited, signal });
      signal.throwIfAborted();
      progress.transcript.push(...results);
      continue;
    }
    if (progress.nextStep > 1 && input.pauseRequested()) return 'paused';
    const messages: ModelMessage[] = [...request.history, ...progress.transcript];
    const { text, calls } = await callModel({ dependencies, run, progress, signal, request: { ...request, messages } });
    if (calls.length === 0) return 'finished';
    if (progress.nextStep === run.maxSteps) {
      // The model still wants tools but the budget is spent: stop here, and say why.
      progress.finishReason = 'max_steps';
      return 'finished';
    }
    progress.transcript.push({ role: 'assistant', content: text, toolCalls: calls });
    if (needsApproval(run, calls)) {
      await requestApprovals({ dependencies, run, calls, progress });
      return 'awaiting_approval';
    }
    const results = await Promise.all(calls.map((call) => callTool({ dependencies, run, call, progress, signal })));
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
  run: RunPlan;
  progress: RunProgress;
  signal: AbortSignal;
  request: Omit<ModelRequest, 'signal'>;
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
    const { assistantMessageId, runId } = run;
    dependencies.eventLog.delta(run.threadId, {
      message_id: assistantMessageId,
      run_id: runId,
      step: progress.nextStep,
      delta,
    });
  };
  for await (const part of run.model.stream({ ...input.request, signal })) {
    if (part.type === 'text-delta') {
      emit(repaired.push(part.text));
    } else if (part.type === 'tool-call') {
      calls.push({ ...part, toolName: storableText(part.toolName), input: storableJson(part.input) });
    } else {
      usage.inputTokens += part.usage.inputTokens;
      usage.outputTokens += part.usage.outputTokens;
      progress.finishReason = part.finishReason;
    }
  }
  emit(repaired.end());
  signal.throwIfAborted();
  progress.usage.inputTokens += usage.inputTokens;
  progress.usage.outputTokens += usage.outputTokens;
  const ended = dependencies.clock.now();
  progress.steps.push(modelStep({ step: progress.nextStep, started, ended, model: run.model.id, text, calls, usage }));
  return { text, calls };
}
