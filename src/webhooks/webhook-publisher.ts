import type { WebhooksConfig } from '../config-webhooks.js';
import type { JsonObject } from '../domain/models.js';
import { subscribes } from '../domain/webhooks.js';
import type { IdGenerator } from '../ids.js';
import type { WebhookSubscription } from '../storage/kysely/webhooks-store.js';
import type { StoreWriters } from '../storage/store.js';

export const WEBHOOK_DELIVERY_JOB = 'webhook_delivery';

/** An event to publish: what happened, in which organisation, when (ISO), with its payload's `data`. */
export interface WebhookEvent {
  organizationId: string;
  type: string;
  data: JsonObject;
  now: string;
}

/**
 * The transactional outbox of webhooks (ADR 0030). `publish` runs inside the `store.write` of
 * the change that caused the event: it reads the organisation's enabled endpoints (one indexed
 * read; none for most organisations), and for each endpoint subscribed to the event inserts a
 * `webhook_deliveries` row and enqueues its `webhook_delivery` job — so the event is delivered
 * exactly when the change commits, never for a change that rolled back. After the commit the
 * caller calls `wake()` (this process's worker claims at once; others poll).
 */
export class WebhookPublisher {
  constructor(private readonly dependencies: { newId: IdGenerator; config: WebhooksConfig; wake: () => void }) {}

  /** Returns the ids of the deliveries made (none when no endpoint subscribes). */
  publish(writers: StoreWriters, event: WebhookEvent): Promise<string[]> {
    return this.publishAll(writers, [event]);
  }

  /** Several events of one organisation (a run's end and its execution's) with one read of its endpoints. */
  async publishAll(writers: StoreWriters, events: readonly WebhookEvent[]): Promise<string[]> {
    const first = events[0];
    if (first === undefined) return [];
    return this.publishTo(writers, await this.subscriptions(writers, first.organizationId), events);
  }

  /**
   * The organisation's enabled endpoints, read apart from `publishTo` so that a unit can send this
   * read together with its own write: on PostgreSQL both statements then leave in one pipelined
   * round trip (ADR 0033) instead of one after the other.
   */
  subscriptions(writers: StoreWriters, organizationId: string): Promise<WebhookSubscription[]> {
    return writers.webhooks.enabledSubscriptions(organizationId);
  }

  /** `publishAll` with the endpoints already read (by `subscriptions`, in the same transaction). */
  async publishTo(
    writers: StoreWriters,
    endpoints: readonly WebhookSubscription[],
    events: readonly WebhookEvent[],
  ): Promise<string[]> {
    const first = events[0];
    if (first === undefined) return [];
    const ids: string[] = [];
    for (const event of events) {
      if (event.organizationId !== first.organizationId) throw new Error('publishAll: events of one organisation only');
      for (const endpoint of endpoints) {
        if (subscribes(endpoint.events, event.type))
          ids.push(await this.deliverTo(writers, { ...event, webhookId: endpoint.id }));
      }
    }
    return ids;
  }

  /** One delivery of an event to one endpoint whatever it subscribes to (the test delivery); its id. */
  async deliverTo(writers: StoreWriters, event: WebhookEvent & { webhookId: string }): Promise<string> {
    const { newId, config } = this.dependencies;
    const id = newId();
    // The body is fixed now: every retry sends (and signs) the same bytes.
    const body = JSON.stringify({ type: event.type, timestamp: event.now, data: event.data });
    const base = { organization_id: event.organizationId, now: event.now };
    await writers.webhookDeliveries.insert({ ...base, id, webhook_id: event.webhookId, event_type: event.type, body });
    await writers.jobs.enqueue({
      ...base,
      id: newId(),
      kind: WEBHOOK_DELIVERY_JOB,
      subject_id: id,
      payload: { webhook_id: event.webhookId },
      max_attempts: config.maxAttempts,
      // The request's own deadline ends an attempt first; the queue's timer is the backstop.
      timeout_ms: config.timeoutMs + 5000,
      backoff: { kind: 'exponential', base_ms: config.backoffMs, max_ms: config.backoffMaxMs },
      progress: {},
    });
    return id;
  }

  /** After the publishing transaction committed. */
  wake(): void {
    this.dependencies.wake();
  }
}
