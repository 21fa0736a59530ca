import type { JsonObject } from './models.js';

/**
 * Signed webhooks (docs/webhooks.md, ADR 0030): an organisation's endpoints, the events they
 * subscribe to, and the log of deliveries made to them.
 */

/** Event types a subscription may name, besides the wildcards `*` and `execution.*`. */
export const WEBHOOK_EVENT_TYPES = [
  'thread.created',
  'run.completed',
  'run.failed',
  'feedback.created',
  'execution.completed',
  'execution.failed',
  'execution.cancelled',
  'execution.timeout',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Sent by `POST /api/v1/webhooks/{id}/test` only, whatever the subscription says. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/** What a subscription may list: an event type, `execution.*` (every execution event) or `*` (every event). */
export const WEBHOOK_SUBSCRIPTIONS: readonly string[] = [...WEBHOOK_EVENT_TYPES, 'execution.*', '*'];

/** Whether an endpoint subscribed to `events` receives an event of `type`. */
export function subscribes(events: readonly string[], type: string): boolean {
  return events.some(
    (pattern) =>
      pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );
}

/** An endpoint as the API shows it: never its secret. */
export interface Webhook {
  id: string;
  organization_id: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  /** Until when deliveries also carry the signature of the secret before the last rotation; null: none. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

/** An endpoint with its sealed secrets, for signing; never leaves the server. */
export interface WebhookSigningKeys {
  webhook: Webhook;
  /** SecretBox-sealed `whsec_…`. */
  secret: string;
  previousSecret: string | null;
}

export interface NewWebhook {
  id: string;
  organization_id: string;
  url: string;
  description: string;
  events: string[];
  /** Sealed. */
  secret: string;
  now: string;
}

export interface WebhookChanges {
  url?: string | undefined;
  description?: string | undefined;
  events?: string[] | undefined;
  enabled?: boolean | undefined;
}

/** pending: queued or being retried; delivered: a 2xx answer; failed: attempts spent (or the endpoint refused for good). */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryAttempt {
  attempt: number;
  /** The receiver's status code; null when no response came (timeout, refused, network). */
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  attempted_at: string;
}

export interface WebhookDelivery {
  /** Also the `webhook-id` header: the same on every retry. */
  id: string;
  webhook_id: string;
  event_type: string;
  /** The JSON sent: `{ type, timestamp, data }`. */
  payload: JsonObject;
  status: WebhookDeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
  /** Oldest first. */
  attempt_log: WebhookDeliveryAttempt[];
}

/** A delivery with what the job handler needs to send it. */
export interface PendingDelivery {
  id: string;
  organization_id: string;
  webhook_id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  body: string;
}

export interface NewWebhookDelivery {
  id: string;
  organization_id: string;
  webhook_id: string;
  event_type: string;
  body: string;
  now: string;
}
