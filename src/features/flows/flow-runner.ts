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

/**
 * The model part of a flow's execution: the agent's model and configuration (system prompt,
 * temperature, step budget), the flow's instructions rendered with the execution's variables as
 * the task, and only the flow's tools — through the same loop as chat runs (model-loop.ts), on
 * a surface without a thread: no history, no deltas, tool calls kept as steps.
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
}): Promise<FlowAnswer> {
  const { flow, progress } = input;
  const validate = flow.output_schema ? compileOutputSchema(flow.output_schema, ['output_schema']) : null;
  const task = taskPrompt(flow, input.variables);
  const history: ModelMessage[] = [{ role: 'user', content: task }];
  await loop({ ...input, history });
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
  await loop({ ...input, history: retry, run: { ...input.run, maxSteps: progress.nextStep - 1 + input.run.maxSteps } });
  const second = lastAnswer(progress);
  const again = checkAnswer(validate, second);
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
  history: ModelMessage[];
  progress: RunProgress;
  signal: AbortSignal;
}): Promise<void> {
  const { dependencies, agent, tools } = input;
  const temperature = agent.configuration.temperature;
  const surface: StepSurface = {
    request: async () => ({
      system: buildSystemPrompt(agent),
      history: input.history,
      tools: tools.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema })),
      temperature: typeof temperature === 'number' ? temperature : undefined,
    }),
    delta: () => undefined,
    callTool: (call, progress, signal) => callFlowTool({ dependencies, tools, call, progress, signal }),
    approvals: null,
  };
  await runStepsOn({ ...input, pauseRequested: () => false, surface });
}

/** One tool call of a flow: run, bounded, and kept as a step and in the run's count. */
async function callFlowTool(input: {
  dependencies: RuntimeDependencies;
  tools: Tool[];
  call: ModelToolCall;
  progress: RunProgress;
  signal: AbortSignal;
}): Promise<TranscriptEntry> {
  const { call, progress } = input;
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
  progress.steps.push(toolStep(record, call.toolCallId));
  return { role: 'tool', toolCallId: call.toolCallId, toolName: call.toolName, result: forModel, isError: !ok };
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
