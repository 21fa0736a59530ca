import type { Agent, ChatMessage, JsonObject } from '../domain/models.js';
import { newMessageOf, openedChatRun } from '../domain/runs.js';
import { AppError } from '../errors.js';
import { ModelError, type LanguageModel } from '../models/model-port.js';
import { DEFAULT_MODEL_ID } from '../models/registry.js';
import type { IdempotencyClaim } from '../storage/store.js';
import type { EventId } from './event-id.js';
import type { EventUnit } from './event-log.js';
import { endInterruptedRuns } from './interrupted-runs.js';
import type { WebhookPublisher } from '../webhooks/webhook-publisher.js';
import { requireQuotaRoom } from './quota-admission.js';
import { RUN_LEASE_MS, type RunPlan, type RuntimeDependencies } from './run-types.js';

const DEFAULT_MAX_STEPS = 5;
const MAX_MAX_STEPS = 25;

export interface RunRequest {
  organizationId: string;
  agent: Agent;
  threadId: string;
  content: string;
  contentHtml: string | null;
  metadata: JsonObject;
  idempotency?: IdempotencyClaim | undefined;
}

/**
 * The start of a run, in one transaction: claim the thread (409 `thread_busy` while another run
 * holds it), store the user's message and the empty reply, open the execution, and append the
 * first events. Nothing is stored when the agent's model or tools cannot be had.
 */
export async function openRun(
  dependencies: RuntimeDependencies,
  request: RunRequest,
): Promise<{ plan: RunPlan; userMessage: ChatMessage; after: EventId }> {
  const { plan, userMessageId } = await planRun(dependencies, request);
  const userMessage: ChatMessage = {
    id: userMessageId,
    thread_id: request.threadId,
    content: request.content,
    content_html: request.contentHtml,
    role: 'user',
    tool_calls: [],
    attachments: [],
    metadata: request.metadata,
    created_at: plan.startedAt.toISOString(),
    feedback: null,
  };
  const { webhooks } = dependencies;
  const { first, replacedRunId, published } = await dependencies.eventLog.write((unit) =>
    storeRunStart({ unit, plan, userMessage, timeoutMs: dependencies.config.runTimeoutMs, webhooks }),
  );
  if (published > 0) webhooks?.wake();
  if (replacedRunId) {
    dependencies.logger.warn({ runId: replacedRunId }, 'took over a thread whose run had lost its lease');
    dependencies.telemetry?.metrics.runEnded('failed', 'chat');
  }
  return { plan, userMessage, after: { seq: first - 1, delta: 0 } };
}

/** The writes of a run's start; throws (and so rolls back) when the thread or agent is not there. */
async function storeRunStart(input: {
  unit: EventUnit;
  plan: RunPlan;
  userMessage: ChatMessage;
  timeoutMs: number;
  webhooks: WebhookPublisher | undefined;
}): Promise<{ first: number; replacedRunId: string | null; published: number }> {
  const { unit, plan, userMessage } = input;
  const { writers } = unit;
  const now = plan.startedAt.toISOString();
  const claim = await writers.threadRuns.claim({
    organizationId: plan.organizationId,
    agentId: plan.agent.id,
    threadId: plan.threadId,
    runId: plan.runId,
    now,
    expiresAt: new Date(plan.startedAt.getTime() + RUN_LEASE_MS).toISOString(),
  });
  if (claim.outcome === 'missing') throw new AppError('thread_not_found');
  if (claim.outcome === 'busy') throw new AppError('thread_busy');
  // The previous owner's lease lapsed: its run is failed and its reply marked interrupted.
  let replacedPublished = 0;
  if (claim.replacedRunId) {
    const replaced = await writers.runs.failInterrupted({ now, ids: [claim.replacedRunId] });
    replacedPublished = await endInterruptedRuns({ unit, runs: replaced, now, webhooks: input.webhooks });
  }
  await writers.messages.insert(newMessageOf(userMessage, plan.organizationId));
  await writers.messages.insert(emptyReply(plan));
  const execution = await writers.runs.insert(
    openedChatRun({
      id: plan.runId,
      organizationId: plan.organizationId,
      agentId: plan.agent.id,
      threadId: plan.threadId,
      messageId: plan.assistantMessageId,
      model: plan.model.id,
      startedAt: now,
      timeoutSeconds: Math.ceil(input.timeoutMs / 1000),
    }),
    plan.processId,
  );
  if (!execution) throw new AppError('agent_not_found');
  const events = await unit.append({
    organizationId: plan.organizationId,
    threadId: plan.threadId,
    now,
    events: [
      { type: 'message-start', data: { message_id: userMessage.id, role: 'user', run_id: null } },
      { type: 'message-end', data: { message: userMessage } },
      { type: 'run-start', data: { run_id: plan.runId, message_id: plan.assistantMessageId, model: plan.model.id } },
      { type: 'message-start', data: { message_id: plan.assistantMessageId, role: 'assistant', run_id: plan.runId } },
    ],
  });
  return { first: events?.[0]?.seq ?? 1, replacedRunId: claim.replacedRunId, published: replacedPublished };
}

/**
 * Resolves what the run will use; throws 400 `model_not_configured` or 429 `quota_exceeded`
 * before anything is stored and before any model is called.
 */
async function planRun(
  dependencies: RuntimeDependencies,
  request: RunRequest,
): Promise<{ plan: RunPlan; userMessageId: string }> {
  const model = resolveModel(dependencies, request.agent);
  await requireQuotaRoom(dependencies.store, { organizationId: request.organizationId, now: dependencies.clock.now() });
  const tools = await dependencies.tools.resolve({ organizationId: request.organizationId, agent: request.agent });
  const startedAt = dependencies.clock.now();
  // Time-ordered ids in the order the rows sort: the run, the question, the reply.
  const runId = dependencies.newId();
  const userMessageId = dependencies.newId();
  const plan: RunPlan = {
    runId,
    organizationId: request.organizationId,
    agent: request.agent,
    threadId: request.threadId,
    assistantMessageId: dependencies.newId(),
    // One millisecond later: the reply sorts after the question even when ids would not decide.
    assistantCreatedAt: new Date(startedAt.getTime() + 1).toISOString(),
    model,
    tools,
    maxSteps: maxStepsOf(request.agent),
    startedAt,
    idempotency: request.idempotency,
    processId: dependencies.process.id,
  };
  return { plan, userMessageId };
}

export function resolveModel(dependencies: RuntimeDependencies, agent: Agent): LanguageModel {
  const modelId = typeof agent.configuration.model === 'string' ? agent.configuration.model : DEFAULT_MODEL_ID;
  return resolveModelId(dependencies, modelId);
}

/** The model by id, or 400 `model_not_configured` (its provider is not set up on this server). */
export function resolveModelId(dependencies: RuntimeDependencies, modelId: string): LanguageModel {
  try {
    return dependencies.models.resolve(modelId);
  } catch (error) {
    if (error instanceof ModelError) throw new AppError('model_not_configured', { message: error.message });
    throw error;
  }
}

export function maxStepsOf(agent: Agent): number {
  const value = agent.configuration.max_steps;
  return typeof value === 'number' && Number.isInteger(value) && value >= 1
    ? Math.min(value, MAX_MAX_STEPS)
    : DEFAULT_MAX_STEPS;
}

function emptyReply(plan: RunPlan) {
  return {
    id: plan.assistantMessageId,
    organization_id: plan.organizationId,
    thread_id: plan.threadId,
    role: 'assistant',
    content: '',
    content_html: null,
    attachments: [],
    metadata: { run_id: plan.runId, model: plan.model.id, status: 'in_progress' },
    created_at: plan.assistantCreatedAt,
  };
}
