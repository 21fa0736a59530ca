import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Jobs } from './app-jobs.js';
import { flowExecutionHandler } from './features/flows/flow-job.js';
import { FlowScheduler } from './features/flows/flow-scheduler.js';
import { registerFlowRoutes } from './features/flows/flows.routes.js';
import { FlowsService } from './features/flows/flows.service.js';
import { registerFlowExecutionRoutes } from './features/runs/flow-executions.routes.js';
import { FlowExecutionsService } from './features/runs/flow-executions.service.js';
import type { Idempotency } from './http/idempotency.js';
import type { RuntimeDependencies } from './runtime/run-types.js';

/**
 * Flows and their executions (docs/flows.md): the CRUD routes, execute/list/cancel/PATCH, and
 * the `flow_execution` job kind on this process's worker (registered before the worker starts),
 * and the scheduler that fires flows' schedules beside that worker.
 */
export function registerFlows(
  app: FastifyInstance,
  input: { config: Config; runtime: RuntimeDependencies; jobs: Jobs; idempotency: Idempotency },
): void {
  const { config, runtime, jobs, idempotency } = input;
  const { store, clock, newId } = runtime;
  jobs.register(flowExecutionHandler({ runtime, jobs: config.jobs }));
  const { maxAttempts, flowSchedulerIntervalMs: intervalMs } = config.jobs;
  const wake = () => jobs.wake();
  jobs.beside(new FlowScheduler({ store, clock, newId, maxAttempts, intervalMs, wake, log: app.log }));
  registerFlowRoutes(app, { flows: new FlowsService({ store, clock, newId }), idempotency });
  const executions = new FlowExecutionsService({
    store,
    clock,
    newId,
    maxAttempts: config.jobs.maxAttempts,
    wake: () => jobs.wake(),
    cancelJob: (jobId) => jobs.cancel(jobId),
    webhooks: runtime.webhooks,
  });
  registerFlowExecutionRoutes(app, { executions, idempotency });
}
