import type { FastifyBaseLogger } from 'fastify';
import type { RuntimeConfig } from '../config.js';
import type { Agent, ChatMessage, ExecutionStatus, FlowExecution, JsonObject, ToolCall } from '../domain/models.js';
import { AppError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import { ModelError, type LanguageModel } from '../models/model-port.js';
import { DEFAULT_MODEL_ID, type ModelRegistry } from '../models/registry.js';
import type { IdempotencyClaim, Store } from '../storage/store.js';
import type { Tool } from '../tools/tool.js';
import type { EventId } from './event-id.js';
import type { ThreadEventLog } from './event-log.js';
import { executeRun, type RunOutcome } from './run-loop.js';

/** How long a run's hold on its thread lasts without renewal (a crashed owner loses it after this). */
export const RUN_LEASE_MS = 30_000;
const DEFAULT_MAX_STEPS = 5;
const MAX_MAX_STEPS = 25;

export interface RunResult {
  status: ExecutionStatus;
  message: ChatMessage;
  execution: FlowExecution;
  error: { code: 'model_error' | 'run_timeout' | 'internal_error'; message: string } | null;
}

export interface StartedRun {
  runId: string;
  userMessage: ChatMessage;
  assistantMessageId: string;
  /** The stream position just before this request's first event. */
  after: EventId;
  completion: Promise<RunResult>;
}

interface ActiveRun {
  organizationId: string;
  threadId: string;
  controller: AbortController;
  completion: Promise<RunResult>;
}

export interface RuntimeDependencies {
  store: Store;
  eventLog: ThreadEventLog;
  models: ModelRegistry;
  tools: ReadonlyMap<string, Tool>;
  clock: Clock;
  newId: IdGenerator;
  config: RuntimeConfig;
  logger: FastifyBaseLogger;
}

/** Why a run's signal fired. */
export class RunStop extends Error {
  constructor(readonly reason: 'cancelled' | 'timeout' | 'shutdown') {
    super(
      reason === 'timeout'
        ? 'The run did not finish in time'
        : `The run was ${reason === 'shutdown' ? 'stopped by server shutdown' : 'cancelled'}`,
    );
    this.name = 'RunStop';
  }
}

/**
 * Starts agent runs and keeps track of the ones running in this process. A run belongs to no
 * request: it goes on if the client disconnects, and everything it does is persisted and
 * published on the thread's event log as it happens.
 */
export class AgentRuntime {
  readonly #active = new Map<string, ActiveRun>();

  constructor(private readonly dependencies: RuntimeDependencies) {}

  /** Resolves the agent's model, or throws 400 `model_not_configured` before anything is stored. */
  resolveModel(agent: Agent): LanguageModel {
    const modelId = typeof agent.configuration.model === 'string' ? agent.configuration.model : DEFAULT_MODEL_ID;
    try {
      return this.dependencies.models.resolve(modelId);
    } catch (error) {
      if (error instanceof ModelError) throw new AppError('model_not_configured', { message: error.message });
      throw error;
    }
  }

  /**
   * Stores the user's message, claims the thread and records the run, in one transaction; then
   * runs the agent in the background. 409 `thread_busy` when the thread already has a live run.
   */
  async start(input: {
    organizationId: string;
    agent: Agent;
    threadId: string;
    content: string;
    contentHtml: string | null;
    metadata: JsonObject;
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<StartedRun> {
    const { store, clock, newId, eventLog } = this.dependencies;
    const model = this.resolveModel(input.agent);
    const tools = this.#toolsOf(input.agent);
    const maxSteps = maxStepsOf(input.agent);
    const now = clock.now();
    const nowText = now.toISOString();
    const runId = newId();
    const userMessage: ChatMessage = {
      id: newId(),
      thread_id: input.threadId,
      content: input.content,
      content_html: input.contentHtml,
      role: 'user',
      tool_calls: [],
      attachments: [],
      metadata: input.metadata,
      created_at: nowText,
      feedback: null,
    };
    const assistantMessageId = newId();
    // One millisecond later: the reply sorts after the question even when ids would not decide.
    const assistantCreatedAt = new Date(now.getTime() + 1).toISOString();

    const { events, replacedRunId } = await store.write(async (writers) => {
      const claim = await writers.threadRuns.claim({
        organizationId: input.organizationId,
        agentId: input.agent.id,
        threadId: input.threadId,
        runId,
        now: nowText,
        expiresAt: new Date(now.getTime() + RUN_LEASE_MS).toISOString(),
      });
      if (claim.outcome === 'missing') throw new AppError('thread_not_found');
      if (claim.outcome === 'busy') throw new AppError('thread_busy');
      // The previous owner's lease lapsed: its run is failed and its reply marked interrupted.
      if (claim.replacedRunId) await writers.runs.failOrphaned(nowText);
      await writers.messages.insert({ message: toRow(userMessage, input.organizationId) });
      await writers.messages.insert({
        message: {
          id: assistantMessageId,
          organization_id: input.organizationId,
          thread_id: input.threadId,
          role: 'assistant',
          content: '',
          content_html: null,
          attachments: '[]',
          metadata: JSON.stringify({ run_id: runId, model: model.id, status: 'in_progress' }),
          created_at: assistantCreatedAt,
        },
      });
      const execution = await writers.runs.insert(
        newExecutionRow({
          runId,
          organizationId: input.organizationId,
          agent: input.agent,
          threadId: input.threadId,
          messageId: assistantMessageId,
          model: model.id,
          now: nowText,
          timeoutMs: this.dependencies.config.runTimeoutMs,
        }),
      );
      if (!execution) throw new AppError('agent_not_found');
      const appended = await writers.events.append({
        organizationId: input.organizationId,
        threadId: input.threadId,
        now: nowText,
        events: [
          { type: 'message-start', data: { message_id: userMessage.id, role: 'user', run_id: null } },
          { type: 'message-end', data: { message: userMessage as unknown as JsonObject } },
          { type: 'run-start', data: { run_id: runId, message_id: assistantMessageId, model: model.id } },
          { type: 'message-start', data: { message_id: assistantMessageId, role: 'assistant', run_id: runId } },
        ],
      });
      return { events: appended ?? [], replacedRunId: claim.replacedRunId };
    });
    if (replacedRunId)
      this.dependencies.logger.warn({ runId: replacedRunId }, 'took over a thread whose run had lost its lease');
    eventLog.published(input.threadId, events);

    const controller = new AbortController();
    const completion = executeRun({
      dependencies: this.dependencies,
      run: {
        runId,
        organizationId: input.organizationId,
        agent: input.agent,
        threadId: input.threadId,
        assistantMessageId,
        assistantCreatedAt,
        model,
        tools,
        maxSteps,
        startedAt: now,
        idempotency: input.idempotency,
      },
      signal: controller.signal,
    }).then((outcome: RunOutcome) => outcome);
    const active: ActiveRun = {
      organizationId: input.organizationId,
      threadId: input.threadId,
      controller,
      completion,
    };
    this.#active.set(runId, active);
    const timeout = setTimeout(() => controller.abort(new RunStop('timeout')), this.dependencies.config.runTimeoutMs);
    void completion
      .finally(() => {
        clearTimeout(timeout);
        this.#active.delete(runId);
      })
      // A run that cannot be stored at its end (its agent was deleted meanwhile) must not take the
      // process down with an unhandled rejection.
      .catch((error: unknown) => this.dependencies.logger.error({ err: error, runId }, 'run could not be finished'));
    const firstSeq = events[0]?.seq ?? 1;
    return { runId, userMessage, assistantMessageId, after: { seq: firstSeq - 1, delta: 0 }, completion };
  }

  /** Fails the runs that died with their process (see failOrphanedRuns); returns how many. */
  recoverOrphanedRuns(options: { ignoreLeases?: boolean } = {}): Promise<number> {
    const now = this.dependencies.clock.now().toISOString();
    return this.dependencies.store.write((writers) => writers.runs.failOrphaned(now, options));
  }

  /** Cancels a run of this process. Returns false when no such run is active here. */
  cancel(input: { organizationId: string; threadId: string; runId: string }): boolean {
    const active = this.#active.get(input.runId);
    if (!active || active.organizationId !== input.organizationId || active.threadId !== input.threadId) return false;
    active.controller.abort(new RunStop('cancelled'));
    return true;
  }

  get activeRunCount(): number {
    return this.#active.size;
  }

  /**
   * For graceful shutdown: lets active runs finish until the deadline, then stops the rest (they
   * are stored as cancelled) and waits for them to be persisted.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    const pending = [...this.#active.values()].map((run) => run.completion.catch(() => undefined));
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(pending), new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    for (const run of this.#active.values()) run.controller.abort(new RunStop('shutdown'));
    await Promise.all(pending);
  }

  #toolsOf(agent: Agent): Tool[] {
    const names = Array.isArray(agent.configuration.tools) ? agent.configuration.tools : [];
    return names.flatMap((name) => {
      const tool = typeof name === 'string' ? this.dependencies.tools.get(name) : undefined;
      return tool ? [tool] : [];
    });
  }
}

function maxStepsOf(agent: Agent): number {
  const value = agent.configuration.max_steps;
  return typeof value === 'number' && Number.isInteger(value) && value >= 1
    ? Math.min(value, MAX_MAX_STEPS)
    : DEFAULT_MAX_STEPS;
}

export function toRow(message: ChatMessage, organizationId: string) {
  return {
    id: message.id,
    organization_id: organizationId,
    thread_id: message.thread_id,
    role: message.role,
    content: message.content,
    content_html: message.content_html,
    attachments: JSON.stringify(message.attachments),
    metadata: JSON.stringify(message.metadata),
    created_at: message.created_at,
  };
}

function newExecutionRow(input: {
  runId: string;
  organizationId: string;
  agent: Agent;
  threadId: string;
  messageId: string;
  model: string;
  now: string;
  timeoutMs: number;
}) {
  return {
    id: input.runId,
    organization_id: input.organizationId,
    agent_id: input.agent.id,
    thread_id: input.threadId,
    message_id: input.messageId,
    // An agent's chat runs are executions of the agent's own flow.
    flow_id: input.agent.id,
    trigger_type: 'api',
    trigger_data: JSON.stringify({ thread_id: input.threadId, message_id: input.messageId }),
    variables: '{}',
    priority: 'normal',
    status: 'running',
    started_at: input.now,
    completed_at: null,
    duration_ms: null,
    timeout_seconds: Math.ceil(input.timeoutMs / 1000),
    steps: '[]',
    final_output: null,
    error_message: null,
    error_details: null,
    retry_count: 0,
    max_retries: 0,
    parent_execution_id: null,
    tokens_used: null,
    tool_calls_count: 0,
    cost_estimate: null,
    performance_metrics: '{}',
    metadata: JSON.stringify({ thread_id: input.threadId, message_id: input.messageId, model: input.model }),
    created_at: input.now,
    updated_at: input.now,
  };
}

export type { ToolCall };
