import type { WebhookPublisher } from '../webhooks/webhook-publisher.js';
import type { FastifyBaseLogger } from 'fastify';
import type { RuntimeConfig } from '../config.js';
import type { Agent, ChatMessage, ExecutionStatus, FlowExecution } from '../domain/models.js';
import { INTERRUPTED_ERROR } from '../domain/runs.js';
import type { RunError } from '../domain/thread-events.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { LanguageModel } from '../models/model-port.js';
import type { PricingTable } from '../models/pricing.js';
import type { ModelRegistry } from '../models/registry.js';
import type { IdempotencyClaim, Store } from '../storage/store.js';
import type { Tool } from '../tools/tool.js';
import type { ToolResolver } from '../tools/tool-resolver.js';
import type { Telemetry } from '../observability/run-telemetry.js';
import type { EventId } from './event-id.js';
import type { ThreadEventLog } from './event-log.js';

/** How long a run's hold on its thread lasts without renewal (a crashed owner loses it after this). */
export const RUN_LEASE_MS = 30_000;

/** The boot id of this process, which its runs carry (see process-liveness.ts). */
export interface ProcessIdentity {
  readonly id: string;
}

export interface RuntimeDependencies {
  store: Store;
  process: ProcessIdentity;
  eventLog: ThreadEventLog;
  models: ModelRegistry;
  /** Model prices for the cost of a run (MODEL_PRICING over the built-in table). */
  pricing: PricingTable;
  tools: ToolResolver;
  clock: Clock;
  newId: IdGenerator;
  config: RuntimeConfig;
  /** In a run's dependencies, the app's logger bound to the run (`runId`, `threadId`, `agentId`). */
  logger: FastifyBaseLogger;
  /**
   * Metrics and spans (docs/observability.md); NO_TELEMETRY when absent. In a run's
   * dependencies, bound to its `invoke_agent` span, under which its model and tool spans go.
   */
  telemetry?: Telemetry | undefined;
  /** The webhook outbox: a run's end publishes `run.*` and `execution.*` in its transaction (docs/webhooks.md). */
  webhooks?: WebhookPublisher | undefined;
}

/** Everything a run needs to go on, fixed when it opens (or resumes). */
export interface RunPlan {
  runId: string;
  organizationId: string;
  agent: Agent;
  threadId: string;
  assistantMessageId: string;
  assistantCreatedAt: string;
  model: LanguageModel;
  tools: Tool[];
  maxSteps: number;
  startedAt: Date;
  /** The request's Idempotency-Key: a completed reply is recorded under it. */
  idempotency: IdempotencyClaim | undefined;
  /** The boot id the run is stored under (this process's when it opened or resumed the run). */
  processId: string;
}

/**
 * How a run ended, or `queued` when it stopped at a step boundary to be resumed later (the reply
 * is then as far as it got).
 */
export interface RunResult {
  status: ExecutionStatus;
  message: ChatMessage;
  execution: FlowExecution;
  error: RunError | null;
}

export interface StartedRun {
  runId: string;
  userMessage: ChatMessage;
  assistantMessageId: string;
  /** The stream position just before this request's first event. */
  after: EventId;
  completion: Promise<RunResult>;
}

const STOP_MESSAGES = {
  cancelled: 'The run was cancelled',
  timeout: 'The run did not finish in time',
  shutdown: 'The run was stopped by server shutdown',
  interrupted: INTERRUPTED_ERROR.message,
} as const;

/**
 * Why a run's signal fired. `interrupted`: other processes took this one for dead and failed
 * its run (see process-liveness.ts).
 */
export class RunStop extends Error {
  constructor(readonly reason: keyof typeof STOP_MESSAGES) {
    super(STOP_MESSAGES[reason]);
    this.name = 'RunStop';
  }
}
