/** Row types of signed webhooks (migration 0017); part of `Database` in schema.ts. */

export interface WebhookRow {
  id: string;
  organization_id: string;
  url: string;
  description: string;
  /** JSON array of event types and wildcards. */
  events: string;
  is_enabled: number;
  /** SecretBox-sealed. */
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveryRow {
  id: string;
  organization_id: string;
  webhook_id: string;
  event_type: string;
  /** The exact JSON text sent. */
  body: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface WebhookDeliveryAttemptRow {
  id: string;
  delivery_id: string;
  organization_id: string;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  attempted_at: string;
}
