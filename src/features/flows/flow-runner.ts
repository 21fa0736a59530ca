import type { Flow } from '../../domain/flows.js';
import type { Agent, JsonObject, ToolCall } from '../../domain/models.js';
import type { TranscriptEntry } from '../../domain/runs.js';
import type { ModelMessage, ModelToolCall } from '../../models/model-port.js';
import type { Tool } from '../../tools/tool.js';
import { compileOutputSchema, outputProblems } from './flow-definition.js';
import { renderInstructions } from './flow-variables.js';
import { runStepsOn, type LoopRun, type StepSurface } from '../../runtime/model-loop.js';
import { maxStepsOf, resolveModel } from '../../runtime/open-run.js';
import { toolStep, type RunProgress } from '../../runtime/run-progress.js';
import type { RuntimeDependencies } from '../../runtime/run-types.js';
import { buildSystemPrompt } from '../../runtime/system-prompt.js';
import { runRecordedCall } from '../../runtime/tool-calls.js';
import type { FlowJournal, JournalPhase } from './flow-journal.js';

/**
 * The model part of a flow's execution: the agent's model and configuration (system prompt,
 * temperature, step budget), the flow's instructions rendered with the execution's variables as
 * the task, and only the flow's tools — through the same loop as chat runs (model-loop.ts), on
 * a surface without a thread: no history, no deltas, tool calls kept as steps and journaled
 * (flow-journal.ts) so that a resumed attempt goes on after the last one that ended.
 *
 * With an output schema the last answer must be JSON that conforms; a non-conforming one is sent
 * back once with the problems, and a second failure ends the execution `failed`.
 */

/** How the model part ended: an answer, or an answer that does not conform (the execution fails). */
export type FlowAnswer =
  { kind: 'answer'; finalOutput: JsonObject } | { kind: 'nonconforming'; message: string; details: JsonObject };

export interface FlowRun {
  progress: RunProgress;
  modelId: string;
  /** Tools named by the flow that the agent does not offer (or that need a person's approval). */
  unavailableTools: string[];
}

/** The model and tools a flow's execution uses; throws AppError `model_not_configured`. */
export async function planFlowRun(input: {
  dependencies: RuntimeDependencies;
  organizationId: string;
  agent: Agent;
  flow: Flow;
}): Promise<{ run: LoopRun; tools: Tool[]; unavailableTools: string[] }> {
  const { dependencies, agent, flow } = input;
  const model = resolveModel(dependencies, agent);
  const offered = await dependencies.tools.resolve({ organizationId: input.organizationId, agent });
  // No person is there to approve a call: a tool that needs approval is not offered to a flow.
  const usable = offered.filter((tool) => flow.tools.includes(tool.name) && tool.requiresApproval !== true);
  const unavailableTools = flow.tools.filter((name) => !usable.some((tool) => tool.name === name));
  return { run: { model, maxSteps: maxStepsOf(agent) }, tools: usable, unavailableTools };
}

export async function runFlow(input: {
  dependencies: RuntimeDependencies;
  agent: Agent;
  flow: Flow;
  variables: JsonObject;
  run: LoopRun;
  tools: Tool[];
  progress: RunProgress;
  signal: AbortSignal;
  journal: FlowJournal;
}): Promise<FlowAnswer> {
  const { flow, progress, journal } = input;
  const validate = flow.output_schema ? compileOutputSchema(flow.output_schema, ['output_schema']) : null;
  const saved = journal.saved;
  // A resumed attempt goes on in the phase its journal was in, with the conversation it holds.
  if (!saved || saved.phase === 'task') {
    const history: ModelMessage[] = saved?.history ?? [{ role: 'user', content: taskPrompt(flow, input.variables) }];
    await loop({ ...input, at: { phase: 'task', history, maxSteps: input.run.maxSteps } });
    const first = lastAnswer(progress);
    if (!validate) return { kind: 'answer', finalOutput: { text: first } };
    const checked = checkAnswer(validate, first);
    if (checked.ok) return { kind: 'answer', finalOutput: checked.value };
    // Once more, with the problems fed back, after the first answer (its tool calls are done).
    progress.transcript = [];
    progress.nextStep += 1;
    const retry: ModelMessage[] = [
      ...history,
      { role: 'assistant', content: first },
      { role: 'user', content: correctionPrompt(checked.problems) },
    ];
    await loop({
      ...input,
      at: { phase: 'correction', history: retry, maxSteps: progress.nextStep - 1 + input.run.maxSteps },
    });
  } else {
    await loop({ ...input, at: { phase: 'correction', history: saved.history, maxSteps: saved.max_steps } });
  }
  const second = lastAnswer(progress);
  const again = validate ? checkAnswer(validate, second) : ({ ok: true, value: { text: second } } as const);
  if (again.ok) return { kind: 'answer', finalOutput: again.value };
  return {
    kind: 'nonconforming',
    message: 'The answer did not match the flow’s output_schema (after one retry with the errors)',
    details: { code: 'output_schema_mismatch', validation_errors: again.problems, attempts: 2, answer: second },
  };
}

async function loop(input: {
  dependencies: RuntimeDependencies;
  agent: Agent;
  run: LoopRun;
  tools: Tool[];
  at: JournalPhase;
  progress: RunProgress;
  signal: AbortSignal;
  journal: FlowJournal;
}): Promise<void> {
  const { dependencies, agent, tools, at, journal } = input;
  const temperature = agent.configuration.temperature;
  const call = (toolCall: ModelToolCall, progress: RunProgress, signal: AbortSignal) =>
    callFlowTool({ dependencies, tools, call: toolCall, progress, signal, journal, at });
  const surface: StepSurface = {
    request: async () => ({
      system: buildSystemPrompt(agent),
      history: at.history,
      tools: tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema })),
      temperature: typeof temperature === 'number' ? temperature : undefined,
    }),
    delta: () => undefined,
    callTool: call,
    // No approvals in a flow: the "awaited" calls are a resumed step's calls that had not ended.
    approvals: {
      needed: () => false,
      request: () => Promise.reject(new Error('a flow does not request approvals')),
      runAwaited: (calls, progress, signal) => {
        progress.awaitingCalls = undefined;
        return Promise.all(calls.map((awaited) => call(awaited, progress, signal)));
      },
    },
  };
  await runStepsOn({ ...input, run: { ...input.run, maxSteps: at.maxSteps }, pauseRequested: () => false, surface });
}

/**
 * One tool call of a flow: its step journaled first, then run, bounded, kept as a step and in
 * the run's count, and journaled before its result goes back to the model.
 */
async function callFlowTool(input: {
  dependencies: RuntimeDependencies;
  tools: Tool[];
  call: ModelToolCall;
  progress: RunProgress;
  signal: AbortSignal;
  journal: FlowJournal;
  at: JournalPhase;
}): Promise<TranscriptEntry> {
  const { call, progress } = input;
  await input.journal.stepStarted(progress, input.at);
  input.signal.throwIfAborted();
  const record: ToolCall = {
    tool_name: call.toolName,
    arguments: call.input,
    result: null,
    error: null,
    start_time: input.dependencies.clock.now().toISOString(),
    end_time: null,
  };
  progress.toolCalls.push(record);
  const tool = input.tools.find((candidate) => candidate.name === call.toolName);
  const { ok, forModel } = await runRecordedCall({
    dependencies: input.dependencies,
    tool,
    record,
    toolCallId: call.toolCallId,
    signal: input.signal,
  });
  const step = toolStep(record, call.toolCallId);
  progress.steps.push(step);
  const entry = {
    role: 'tool' as const,
    toolCallId: call.toolCallId,
    toolName: call.toolName,
    result: forModel,
    isError: !ok,
  };
  // A call cut short by the attempt's stop did not end: it stays awaiting for the next attempt.
  if (!input.signal.aborted) await input.journal.toolCallEnded({ record, step, entry });
  return entry;
}

/** The task as the model gets it: the rendered instructions, and the answer's required form. */
function taskPrompt(flow: Flow, variables: JsonObject): string {
  const task = renderInstructions(flow.instructions, variables);
  if (!flow.output_schema) return task;
  return `${task}\n\nAnswer with one JSON value only (no prose, no code fences) that conforms to this JSON Schema:\n${JSON.stringify(flow.output_schema)}`;
}

function correctionPrompt(problems: string[]): string {
  return `Your answer does not conform to the JSON Schema:\n- ${problems.join('\n- ')}\nAnswer again with one JSON value only that conforms.`;
}

/** The text of the last model call (the answer); earlier calls' text led up to tool calls. */
function lastAnswer(progress: RunProgress): string {
  const last = progress.steps.filter((step) => step.step_type === 'llm').at(-1);
  const text = last?.output_data.text;
  return typeof text === 'string' ? text.trim() : '';
}

/** The answer parsed as JSON (a fenced block is accepted) and checked; an object is the output, anything else `{value}`. */
function checkAnswer(
  validate: ReturnType<typeof compileOutputSchema>,
  text: string,
): { ok: true; value: JsonObject } | { ok: false; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(unfenced(text));
  } catch {
    return { ok: false, problems: ['the answer is not JSON'] };
  }
  const problems = outputProblems(validate, value);
  if (problems.length > 0) return { ok: false, problems };
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  return { ok: true, value: isObject ? (value as JsonObject) : { value: value as JsonObject[string] } };
}

/** The text inside a Markdown code fence (```json … ```), or the text itself. */
function unfenced(text: string): string {
  if (!text.startsWith('```') || !text.endsWith('```') || text.length < 6) return text;
  const body = text.slice(3, -3);
  const newline = body.indexOf('\n');
  return newline === -1 ? body : body.slice(newline + 1);
}
