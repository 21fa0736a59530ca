import type {
  NewWebhookDelivery,
  PendingDelivery,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryStatus,
} from '../../domain/webhooks.js';
import type { JsonObject } from '../../domain/models.js';
import type { WebhookDeliveryAttemptRow, WebhookDeliveryRow } from './schema-webhooks.js';
import { parseJson, type Executor } from './executor.js';

/** The one row → domain mapping of a delivery, with its attempts (oldest first). */
function deliveryRowToDelivery(row: WebhookDeliveryRow, attempts: WebhookDeliveryAttemptRow[]): WebhookDelivery {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_type: row.event_type,
    payload: parseJson<JsonObject>(row.body),
    status: row.status as WebhookDeliveryStatus,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
    delivered_at: row.delivered_at,
    attempt_log: attempts.map(attemptRowToAttempt),
  };
}

function attemptRowToAttempt(row: WebhookDeliveryAttemptRow): WebhookDeliveryAttempt {
  return {
    attempt: row.attempt,
    status_code: row.status_code,
    duration_ms: row.duration_ms,
    error: row.error,
    attempted_at: row.attempted_at,
  };
}

export class WebhookDeliveryReader {
  constructor(private readonly db: Executor) {}

  /** One page of an endpoint's log, newest first; the endpoint is checked by the caller, the organisation here. */
  async list(input: {
    organizationId: string;
    webhookId: string;
    status?: WebhookDeliveryStatus | undefined;
    limit: number;
    offset: number;
  }): Promise<WebhookDelivery[]> {
    let query = this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('webhook_id', '=', input.webhookId);
    if (input.status !== undefined) query = query.where('status', '=', input.status);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(input.limit)
      .offset(input.offset)
      .execute();
    return this.#withAttempts(input.organizationId, rows);
  }

  async get(input: { organizationId: string; id: string }): Promise<WebhookDelivery | null> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (!row) return null;
    const [delivery] = await this.#withAttempts(input.organizationId, [row]);
    return delivery ?? null;
  }

  async pending(input: { organizationId: string; id: string }): Promise<PendingDelivery | null> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'organization_id', 'webhook_id', 'status', 'attempts', 'body'])
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? { ...row, status: row.status as WebhookDeliveryStatus } : null;
  }

  /** The attempts of a page of deliveries in one statement. */
  async #withAttempts(organizationId: string, rows: WebhookDeliveryRow[]): Promise<WebhookDelivery[]> {
    if (rows.length === 0) return [];
    const attempts = await this.db
      .selectFrom('webhook_delivery_attempts')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where(
        'delivery_id',
        'in',
        rows.map((row) => row.id),
      )
      .orderBy('attempt', 'asc')
      .execute();
    return rows.map((row) =>
      deliveryRowToDelivery(
        row,
        attempts.filter((attempt) => attempt.delivery_id === row.id),
      ),
    );
  }
}

export class WebhookDeliveryWriter {
  constructor(private readonly db: Executor) {}

  /** A delivery as this transaction sees it (the test route answers with the one it just made). */
  get(input: { organizationId: string; id: string }): Promise<WebhookDelivery | null> {
    return new WebhookDeliveryReader(this.db).get(input);
  }

  async insert(delivery: NewWebhookDelivery): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        id: delivery.id,
        organization_id: delivery.organization_id,
        webhook_id: delivery.webhook_id,
        event_type: delivery.event_type,
        body: delivery.body,
        status: 'pending',
        attempts: 0,
        last_status_code: null,
        last_error: null,
        created_at: delivery.now,
        updated_at: delivery.now,
        delivered_at: null,
      })
      .execute();
  }

  /** Records one attempt and its outcome on the delivery (still pending: the queue decides whether it retries). */
  async recordAttempt(input: {
    id: string;
    organizationId: string;
    deliveryId: string;
    attempt: WebhookDeliveryAttempt;
  }): Promise<void> {
    const { attempt } = input;
    await this.db
      .insertInto('webhook_delivery_attempts')
      .values({ id: input.id, delivery_id: input.deliveryId, organization_id: input.organizationId, ...attempt })
      .execute();
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        attempts: attempt.attempt,
        last_status_code: attempt.status_code,
        last_error: attempt.error,
        updated_at: attempt.attempted_at,
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.deliveryId)
      .execute();
  }

  /** The end of a delivery: `delivered` (a 2xx), or `failed` with why. */
  async finish(input: {
    organizationId: string;
    id: string;
    status: 'delivered' | 'failed';
    error?: string | undefined;
    now: string;
  }): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: input.status,
        updated_at: input.now,
        ...(input.status === 'delivered' ? { delivered_at: input.now } : {}),
        // A failure keeps the last attempt's error as its reason unless another is given.
        ...(input.error !== undefined ? { last_error: input.error } : {}),
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .execute();
  }

  /**
   * Deletes at most `limit` finished deliveries (delivered or failed) last changed before
   * `before`, with their attempts (the foreign key cascades); pending ones are never touched.
   * Served by `webhook_deliveries_finished (status, updated_at)` (migration 0022).
   */
  async trimFinished(input: { before: string; limit: number }): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', 'in', ['delivered', 'failed'])
          .where('updated_at', '<', input.before)
          .limit(input.limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The ids of an endpoint's deliveries still pending (their queued jobs go when the endpoint is deleted). */
  async pendingIds(input: { organizationId: string; webhookId: string }): Promise<string[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('organization_id', '=', input.organizationId)
      .where('webhook_id', '=', input.webhookId)
      .where('status', '=', 'pending')
      .execute();
    return rows.map((row) => row.id);
  }
}
