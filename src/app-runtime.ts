import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { ModelRegistry } from './models/registry.js';
import type { Store } from './storage/store.js';
import { createJobs, type Jobs } from './app-jobs.js';
import { createWebhookPublisher } from './app-webhooks.js';
import type { WebhookPublisher } from './webhooks/webhook-publisher.js';
import { createPricingTable } from './models/pricing.js';
import { createModelRegistry } from './models/registry.js';
import { ThreadEventLog } from './runtime/event-log.js';
import type { LiveBus } from './runtime/live-bus.js';
import { createLiveLayer, type LiveLayer } from './runtime/live-layer.js';
import { MessagesService } from './features/messages/messages.service.js';
import { AgentRuntime } from './runtime/run-agent.js';
import type { RuntimeDependencies } from './runtime/run-types.js';
import { BootId, ProcessLiveness } from './runtime/process-liveness.js';
import type { ToolResolver } from './tools/tool-resolver.js';
import type { Clock, IdGenerator } from './ids.js';

/** How long app start waits for the live layer's first connection (docs/streaming.md). */
const LIVE_CONNECT_WAIT_MS = 5000;

/**
 * A process starts serving with its live layer connected, so its first streams are not degraded
 * for want of a connection still being opened; past the wait it starts degraded, and says so.
 */
async function awaitLiveLayer(live: LiveLayer, logger: FastifyBaseLogger): Promise<void> {
  if (await live.connected(LIVE_CONNECT_WAIT_MS)) return;
  logger.warn('Redis live layer unreachable at start: streams start degraded (stored events) until it is');
}

/** The parts of the app's dependencies the runtime needs (app.ts's AppDependencies fits). */
type RuntimeAppDependencies = {
  config: Config;
  store: Store;
  models?: ModelRegistry | undefined;
  elapsedMs?: (() => number) | undefined;
};

/** The agent runtime with its event log and live layer (memory or Redis), the process's heartbeat watch over it, and the job worker. */
export function createRuntime(input: {
  app: FastifyInstance;
  dependencies: RuntimeAppDependencies;
  clock: Clock;
  generateId: IdGenerator;
  logger: FastifyBaseLogger;
  tools: ToolResolver;
  telemetry: RuntimeDependencies['telemetry'];
}): {
  bus: LiveBus;
  eventLog: ThreadEventLog;
  runtime: AgentRuntime;
  runtimeDependencies: RuntimeDependencies;
  liveness: ProcessLiveness;
  jobs: Jobs;
  webhooks: WebhookPublisher;
  /** The messages feature, which cancels through the live layer a run another process owns. */
  messages: MessagesService;
} {
  const { dependencies, clock, generateId, logger } = input;
  const { config, store } = dependencies;
  const live = createLiveLayer(config.live, logger);
  // After the runs (the app closes last): their last events go out before the connections close.
  input.app.addHook('onClose', () => live.close());
  input.app.addHook('onReady', () => awaitLiveLayer(live, logger));
  const { bus } = live;
  const eventLog = new ThreadEventLog({ store, bus, deltas: live.deltas, degradedPollMs: config.live.degradedPollMs });
  const identity = new BootId(generateId);
  // The webhook outbox wakes the worker made below, after the runtime that publishes through it.
  const webhooks = createWebhookPublisher({ config, generateId, jobs: () => jobs });
  const runtimeDependencies: RuntimeDependencies = {
    store,
    process: identity,
    eventLog,
    models: dependencies.models ?? createModelRegistry(config.models),
    pricing: createPricingTable(config.pricing),
    tools: input.tools,
    clock,
    newId: generateId,
    config: config.runtime,
    logger,
    telemetry: input.telemetry,
    webhooks,
  };
  const runtime = new AgentRuntime(runtimeDependencies);
  const heartbeatMs = config.runtime.processHeartbeatMs;
  const liveness = new ProcessLiveness({
    store,
    identity,
    recovery: runtime,
    clock,
    heartbeatMs,
    logger,
    ...(dependencies.elapsedMs ? { elapsedMs: dependencies.elapsedMs } : {}),
  });
  const jobs = createJobs({ config, store, clock, generateId, log: logger });
  const remoteCancel = live.remoteCancel((run) => runtime.cancel(run));
  const messages = new MessagesService({ store, runtime, eventLog, clock, newId: generateId, remoteCancel });
  return { bus, eventLog, runtime, runtimeDependencies, liveness, jobs, webhooks, messages };
}
