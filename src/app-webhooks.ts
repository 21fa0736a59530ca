import type { FastifyInstance } from 'fastify';
import type { Jobs } from './app-jobs.js';
import type { Config } from './config.js';
import { registerWebhookRoutes } from './features/webhooks/webhooks.routes.js';
import { WebhooksService } from './features/webhooks/webhooks.service.js';
import type { Idempotency } from './http/idempotency.js';
import type { Clock, IdGenerator } from './ids.js';
import type { OutboundClient } from './outbound/outbound-client.js';
import { SecretBox } from './security/secret-box.js';
import { RetentionSweep } from './storage/retention-sweep.js';
import type { ServerSecret } from './security/server-secret.js';
import type { Store } from './storage/store.js';
import { webhookDeliveryJob } from './webhooks/webhook-delivery-job.js';
import { WebhookPublisher } from './webhooks/webhook-publisher.js';

/**
 * The webhook outbox (docs/webhooks.md), made before the runtime and the services that publish
 * through it; it wakes the job worker, which exists only later, hence `jobs()`.
 */
export function createWebhookPublisher(input: {
  config: Config;
  generateId: IdGenerator;
  jobs: () => Jobs;
}): WebhookPublisher {
  return new WebhookPublisher({
    newId: input.generateId,
    config: input.config.webhooks,
    wake: () => input.jobs().wake(),
  });
}

/**
 * The delivery job's handler (before the worker starts), the `/api/v1/webhooks` routes, and the
 * delivery log's retention (swept by the processes that run jobs).
 */
export function registerWebhooks(input: {
  app: FastifyInstance;
  config: Config;
  store: Store;
  clock: Clock;
  generateId: IdGenerator;
  outbound: OutboundClient;
  secret: ServerSecret;
  idempotency: Idempotency;
  jobs: Jobs;
  publisher: WebhookPublisher;
}): void {
  const { app, config, store, clock, generateId, outbound, publisher } = input;
  const box = new SecretBox(input.secret);
  input.jobs.register(
    webhookDeliveryJob({ store, box, outbound, clock, newId: generateId, config: config.webhooks, log: app.log }),
  );
  const webhooks = new WebhooksService({
    store,
    box,
    clock,
    newId: generateId,
    outbound,
    publisher,
    config: config.webhooks,
  });
  registerWebhookRoutes(app, { webhooks, idempotency: input.idempotency });
  input.jobs.beside(deliveryRetention({ store, clock, days: config.webhooks.deliveryRetentionDays, log: app.log }));
}

/** The delivery log's sweep: finished deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS go. */
export function deliveryRetention(input: {
  store: Store;
  clock: Clock;
  days: number;
  log: FastifyInstance['log'];
}): RetentionSweep {
  return new RetentionSweep({
    what: 'webhook deliveries',
    store: input.store,
    clock: input.clock,
    maxAgeMs: input.days * 86_400_000,
    trim: (writers, window) => writers.webhookDeliveries.trimFinished(window),
    log: input.log,
  });
}
