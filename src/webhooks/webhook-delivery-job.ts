import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { WebhooksConfig } from '../config-webhooks.js';
import type { Job } from '../domain/jobs.js';
import type { WebhookDeliveryAttempt } from '../domain/webhooks.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { JobHandler, JobOutcome } from '../jobs/job-handler.js';
import { OutboundError } from '../outbound/outbound-error.js';
import type { OutboundClient } from '../outbound/outbound-client.js';
import type { SecretBox } from '../security/secret-box.js';
import type { Store } from '../storage/store.js';
import { WEBHOOK_DELIVERY_JOB } from './webhook-publisher.js';
import { signedHeaders } from './webhook-signature.js';

/** A receiver's answer was not a 2xx, or none came: the queue retries after its back-off. */
class DeliveryAttemptFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryAttemptFailed';
  }
}

/** What one attempt's answer can cost us: receivers' bodies are read (to free the connection), not kept. */
const MAX_RESPONSE_BYTES = 64 * 1024;

interface DeliveryJobDependencies {
  store: Store;
  box: SecretBox;
  outbound: OutboundClient;
  clock: Clock;
  newId: IdGenerator;
  config: WebhooksConfig;
  log: FastifyBaseLogger;
}

/**
 * The `webhook_delivery` job (docs/webhooks.md): one POST of the stored body, signed for this
 * attempt's timestamp, through the guarded outbound client (the destination policy, DNS
 * included, is applied again now), no redirects followed. Every attempt is recorded with its
 * status code, duration and error; a 2xx ends the delivery `delivered`; anything else is thrown,
 * so the queue retries it with back-off until WEBHOOK_MAX_ATTEMPTS, then `onGiveUp` marks it `failed`.
 */
export function webhookDeliveryJob(dependencies: DeliveryJobDependencies): JobHandler {
  return {
    kind: WEBHOOK_DELIVERY_JOB,
    run: (job, context) => attemptDelivery(dependencies, job, context.signal),
    onGiveUp: async ({ job, writers, now }) => {
      // The last attempt's error stays on the delivery (recorded with the attempt): the reason.
      await writers.webhookDeliveries.finish({
        organizationId: job.organization_id,
        id: job.subject_id,
        status: 'failed',
        now,
      });
      return `webhook delivery failed after ${job.attempts} attempts`;
    },
  };
}

async function attemptDelivery(
  dependencies: DeliveryJobDependencies,
  job: Job,
  signal: AbortSignal,
): Promise<JobOutcome> {
  const { store, box, clock } = dependencies;
  const key = { organizationId: job.organization_id, id: job.subject_id };
  const delivery = await store.webhookDeliveries.pending(key);
  const endpoint = delivery ? await store.webhooks.signingKeys({ ...key, id: delivery.webhook_id }) : null;
  // Deleted with its endpoint (deliveries cascade), or already ended by an earlier attempt.
  if (!delivery || !endpoint) return { status: 'failed', errorMessage: 'the webhook or its delivery was deleted' };
  if (delivery.status !== 'pending') return { status: 'succeeded', errorMessage: null };
  const now = clock.now();
  const secrets = [box.open(endpoint.secret)];
  const overlapEnds = endpoint.webhook.previous_secret_expires_at;
  if (endpoint.previousSecret && overlapEnds !== null && Date.parse(overlapEnds) > now.getTime()) {
    secrets.push(box.open(endpoint.previousSecret));
  }
  const headers = signedHeaders({
    secrets,
    id: delivery.id,
    timestamp: Math.floor(now.getTime() / 1000),
    body: delivery.body,
  });
  const attempt = await send(dependencies, {
    url: endpoint.webhook.url,
    headers,
    body: delivery.body,
    signal,
    number: job.attempts,
    now,
  });
  await store.write((writers) =>
    writers.webhookDeliveries.recordAttempt({
      id: dependencies.newId(),
      organizationId: job.organization_id,
      deliveryId: delivery.id,
      attempt,
    }),
  );
  if (attempt.error !== null) throw new DeliveryAttemptFailed(attempt.error);
  return {
    status: 'succeeded',
    errorMessage: null,
    commit: (writers) =>
      writers.webhookDeliveries.finish({ ...key, status: 'delivered', now: clock.now().toISOString() }),
  };
}

/** One POST; never throws for the receiver's sake: its answer, or why there was none, is the attempt. */
async function send(
  dependencies: DeliveryJobDependencies,
  request: {
    url: string;
    headers: Record<string, string>;
    body: string;
    signal: AbortSignal;
    number: number;
    now: Date;
  },
): Promise<WebhookDeliveryAttempt> {
  const started = performance.now();
  const attempt = (status: number | null, error: string | null): WebhookDeliveryAttempt => ({
    attempt: request.number,
    status_code: status,
    duration_ms: Math.round(performance.now() - started),
    error,
    attempted_at: request.now.toISOString(),
  });
  try {
    const response = await dependencies.outbound.request({
      method: 'POST',
      url: request.url,
      headers: { ...request.headers, 'content-type': 'application/json', 'user-agent': 'Parley-Webhooks/1' },
      body: request.body,
      timeoutMs: dependencies.config.timeoutMs,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      maxRedirects: 0,
      signal: request.signal,
    });
    const delivered = response.status >= 200 && response.status < 300;
    return attempt(response.status, delivered ? null : `the receiver answered ${response.status}`);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    // The client's constant message (`outbound_failed: connect`…): never the socket's own text.
    return attempt(null, error.message);
  }
}
