import type { ExecutionStep, JsonObject, ToolCall } from '../../domain/models.js';
import type { TranscriptEntry, TranscriptToolCall } from '../../domain/runs.js';
import type { ModelMessage } from '../../models/model-port.js';
import type { RunProgress } from '../../runtime/run-progress.js';

/**
 * The journal of a flow's execution (docs/adr/0029-flows.md, "Resumed executions"): what an
 * attempt has done so far, written before any of it is relied on, so that the attempt that
 * takes over after its process died goes on from there instead of starting over.
 *
 * - When a model call asks for tools, before the first of them runs: the conversation so far
 *   (the phase's history and transcript, ending with the model's tool calls), the steps, the
 *   usage, and the calls as `awaiting_calls`.
 * - When a tool call ends (result or error), before the model is called again: its record, its
 *   step and its result in the transcript; once the last of the step's calls has ended, the
 *   journal points at the next model call.
 *
 * Each write names the attempt's job and fencing token (FlowExecutionWriter.journal): once the
 * lease is another attempt's, nothing more is written and `lost` stops this attempt. A resumed
 * attempt rebuilds its progress from the journal: the completed calls are not run again; the
 * calls still awaiting (started, never ended, or never started) run again — at least once.
 */

export interface FlowJournalState {
  version: 1;
  /** `task`: the first loop; `correction`: the loop after an answer the output schema refused. */
  phase: 'task' | 'correction';
  /** The conversation before this phase's transcript (the task, and for a correction, more). */
  history: ModelMessage[];
  /** The phase's budget of model calls (counted from the execution's first). */
  max_steps: number;
  next_step: number;
  usage: { input_tokens: number; output_tokens: number };
  steps: ExecutionStep[];
  /** The tool calls that ended, in the order they ended. */
  tool_calls: ToolCall[];
  transcript: TranscriptEntry[];
  /** The calls of step `next_step` that have not ended. Absent: the next model call is due. */
  awaiting_calls?: TranscriptToolCall[];
  /** How many attempts resumed the execution so far. */
  resumes: number;
}

/** Where a loop of the flow stands when a step's tools start: its phase, history and budget. */
export interface JournalPhase {
  phase: FlowJournalState['phase'];
  history: ModelMessage[];
  maxSteps: number;
}

export class FlowJournal {
  #state: FlowJournalState | null;
  #writes: Promise<void> = Promise.resolve();
  /** The steps already journaled (`phase:step`): their model part is written once. */
  readonly #started = new Set<string>();

  constructor(
    private readonly options: {
      /** A saved journal (a resumed attempt), or null. */
      saved: FlowJournalState | null;
      /** Writes the journal under the attempt's fencing token; false when the lease is gone. */
      write: (state: JsonObject) => Promise<boolean>;
      /** The lease is another attempt's: stop. */
      lost: () => void;
    },
  ) {
    this.#state = options.saved;
    if (options.saved?.awaiting_calls) this.#started.add(`${options.saved.phase}:${options.saved.next_step}`);
  }

  /** The saved journal, when this attempt resumed one. */
  get saved(): FlowJournalState | null {
    return this.options.saved;
  }

  /**
   * The model call of step `progress.nextStep` asked for tools: journal it (once per step, the
   * first of its calls waits for the write) before any of them runs.
   */
  stepStarted(progress: RunProgress, at: JournalPhase): Promise<void> {
    const key = `${at.phase}:${progress.nextStep}`;
    if (this.#started.has(key)) return this.#writes;
    this.#started.add(key);
    const last = progress.transcript.at(-1);
    const awaiting = last?.role === 'assistant' ? last.toolCalls : [];
    this.#state = clone({
      version: 1,
      phase: at.phase,
      history: at.history,
      max_steps: at.maxSteps,
      next_step: progress.nextStep,
      usage: { input_tokens: progress.usage.inputTokens, output_tokens: progress.usage.outputTokens },
      steps: progress.steps,
      tool_calls: this.#state?.tool_calls ?? [],
      transcript: progress.transcript,
      awaiting_calls: awaiting,
      resumes: this.#state?.resumes ?? 0,
    });
    return this.#write();
  }

  /** A call of the journaled step ended: its record, step and result, written before the model goes on. */
  toolCallEnded(input: {
    record: ToolCall;
    step: ExecutionStep;
    entry: TranscriptEntry & { role: 'tool' };
  }): Promise<void> {
    const state = this.#state;
    if (!state) return this.#writes;
    state.tool_calls.push(clone(input.record));
    state.steps.push(clone(input.step));
    state.transcript.push(clone(input.entry));
    const awaiting = (state.awaiting_calls ?? []).filter((call) => call.toolCallId !== input.entry.toolCallId);
    if (awaiting.length > 0) {
      state.awaiting_calls = awaiting;
    } else {
      delete state.awaiting_calls;
      state.next_step += 1;
    }
    return this.#write();
  }

  /** Writes the journal as it is now; writes are made in order, one at a time. */
  #write(): Promise<void> {
    const snapshot = clone(this.#state) as unknown as JsonObject;
    this.#writes = this.#writes.then(async () => {
      if (!(await this.options.write(snapshot))) this.options.lost();
    });
    return this.#writes;
  }
}

/** A saved journal as the store returns it, or null when there is none (or not of this version). */
export function journalOf(saved: JsonObject | null): FlowJournalState | null {
  if (saved === null || saved.version !== 1) return null;
  return saved as unknown as FlowJournalState;
}

/**
 * The progress of an attempt that resumes `saved`: the steps, usage, completed tool calls and
 * transcript it holds, the awaiting calls to run again, and a `resume` step that says so.
 */
export function resumedProgress(saved: FlowJournalState, now: string): RunProgress {
  const resumes = saved.resumes + 1;
  saved.resumes = resumes;
  const rerun = (saved.awaiting_calls ?? []).map((call) => call.toolCallId);
  const step: ExecutionStep = {
    step_id: `resume-${resumes}`,
    step_name: 'Resumed after an interruption',
    step_type: 'resume',
    status: 'completed',
    started_at: now,
    tool_name: null,
    input_data: { next_step: saved.next_step, completed_tool_calls: saved.tool_calls.length },
    output_data: { rerun_tool_calls: rerun },
    error_message: null,
    completed_at: now,
    duration_ms: 0,
    retry_count: 0,
    metadata: { resumes },
  };
  const copy = clone(saved);
  return {
    nextStep: copy.next_step,
    text: '',
    usage: { inputTokens: copy.usage.input_tokens, outputTokens: copy.usage.output_tokens },
    steps: [...copy.steps, step],
    toolCalls: copy.tool_calls,
    finishReason: 'tool-calls',
    transcript: copy.transcript,
    awaitingCalls: copy.awaiting_calls,
  };
}

function clone<Value>(value: Value): Value {
  return structuredClone(value);
}
