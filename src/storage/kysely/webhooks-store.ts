import type { NewWebhook, Webhook, WebhookChanges, WebhookSigningKeys } from '../../domain/webhooks.js';
import type { WebhookRow } from './schema-webhooks.js';
import { parseJson, type Executor } from './executor.js';
import { PreparedQuery } from './prepared-query.js';
import { runBatched, type BatchedStatement } from './batched-statement.js';

/** The one row → domain mapping of an endpoint: never its secrets. */
function webhookRowToWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    organization_id: row.organization_id,
    url: row.url,
    description: row.description,
    events: parseJson<string[]>(row.events),
    enabled: row.is_enabled === 1,
    previous_secret_expires_at: row.previous_secret_expires_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** What the publisher needs of an endpoint to match an event: one indexed read per event. */
export interface WebhookSubscription {
  id: string;
  events: string[];
}

/**
 * The publisher's read, on every thread creation, run end and rating: compiled once (building a
 * Kysely query costs more than SQLite takes to run this one), through webhooks_organization.
 */
const ENABLED_SUBSCRIPTIONS = new PreparedQuery<
  { organization_id: string; is_enabled: number },
  Pick<WebhookRow, 'id' | 'events'>
>(['organization_id', 'is_enabled'], (db, values) =>
  db
    .selectFrom('webhooks')
    .select(['id', 'events'])
    .where('organization_id', '=', values.organization_id)
    .where('is_enabled', '=', values.is_enabled),
);

/**
 * The reads of one PostgreSQL batch as one (ADR 0033 amendment): every organisation the batch's
 * units publish for, each call answered with its organisation's rows. The units are in one
 * transaction and issued their reads in the same tick, before any of them ran a later statement.
 */
const ENABLED_SUBSCRIPTIONS_MANY_SQL =
  'select organization_id, id, events from webhooks where organization_id = any($1::text[]) and is_enabled = 1';

const ENABLED_SUBSCRIPTIONS_BATCHED: BatchedStatement<string, WebhookSubscription[]> = {
  single: async (db, organizationId) => {
    const { rows } = await ENABLED_SUBSCRIPTIONS.execute(db, { organization_id: organizationId, is_enabled: 1 });
    return rows.map((row) => ({ id: row.id, events: parseJson<string[]>(row.events) }));
  },
  many: async (connection, organizationIds) => {
    const { rows } = await connection.send(ENABLED_SUBSCRIPTIONS_MANY_SQL, [[...new Set(organizationIds)]]);
    const byOrganization = new Map<string, WebhookSubscription[]>();
    for (const row of rows as { organization_id: string; id: string; events: string }[]) {
      const list = byOrganization.get(row.organization_id) ?? [];
      byOrganization.set(row.organization_id, list);
      list.push({ id: row.id, events: parseJson<string[]>(row.events) });
    }
    // Each call gets its own copy: a unit may change what it was given.
    return organizationIds.map((id) =>
      (byOrganization.get(id) ?? []).map((entry) => ({ ...entry, events: [...entry.events] })),
    );
  },
};

export class WebhookReader {
  constructor(private readonly db: Executor) {}

  async list(input: { organizationId: string }): Promise<Webhook[]> {
    const rows = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(webhookRowToWebhook);
  }

  async get(input: { organizationId: string; id: string }): Promise<Webhook | null> {
    const row = await this.#row(input);
    return row ? webhookRowToWebhook(row) : null;
  }

  /** The endpoint with its sealed secrets, for the delivery job; within its organisation. */
  async signingKeys(input: { organizationId: string; id: string }): Promise<WebhookSigningKeys | null> {
    const row = await this.#row(input);
    if (!row) return null;
    return { webhook: webhookRowToWebhook(row), secret: row.secret, previousSecret: row.previous_secret };
  }

  #row(input: { organizationId: string; id: string }) {
    return this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
  }
}

export class WebhookWriter {
  constructor(private readonly db: Executor) {}

  async insert(webhook: NewWebhook): Promise<Webhook> {
    const row: WebhookRow = {
      id: webhook.id,
      organization_id: webhook.organization_id,
      url: webhook.url,
      description: webhook.description,
      events: JSON.stringify(webhook.events),
      is_enabled: 1,
      secret: webhook.secret,
      previous_secret: null,
      previous_secret_expires_at: null,
      created_at: webhook.now,
      updated_at: webhook.now,
    };
    await this.db.insertInto('webhooks').values(row).execute();
    return webhookRowToWebhook(row);
  }

  /** The endpoint, read in the transaction that uses it (a test delivery is only made to one that exists). */
  async get(input: { organizationId: string; id: string }): Promise<Webhook | null> {
    return new WebhookReader(this.db).get(input);
  }

  /**
   * The enabled endpoints of an organisation, read inside the transaction of the change that
   * publishes an event (webhooks_organization index; no rows for an organisation without any).
   */
  async enabledSubscriptions(organizationId: string): Promise<WebhookSubscription[]> {
    return runBatched(this.db, ENABLED_SUBSCRIPTIONS_BATCHED, organizationId);
  }

  /** Fields left undefined stay; null when there is no such endpoint in the organisation. */
  async update(input: {
    organizationId: string;
    id: string;
    changes: WebhookChanges;
    now: string;
  }): Promise<Webhook | null> {
    const { changes } = input;
    const updated = await this.db
      .updateTable('webhooks')
      .set({
        updated_at: input.now,
        ...(changes.url !== undefined ? { url: changes.url } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.events !== undefined ? { events: JSON.stringify(changes.events) } : {}),
        ...(changes.enabled !== undefined ? { is_enabled: changes.enabled ? 1 : 0 } : {}),
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    return updated ? webhookRowToWebhook(updated) : null;
  }

  /** The new sealed secret signs from now on; the one it replaces also signs until `previousExpiresAt`. */
  async rotateSecret(input: {
    organizationId: string;
    id: string;
    secret: string;
    previousExpiresAt: string;
    now: string;
  }): Promise<Webhook | null> {
    const current = await this.db
      .selectFrom('webhooks')
      .select('secret')
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (!current) return null;
    const updated = await this.db
      .updateTable('webhooks')
      .set({
        secret: input.secret,
        previous_secret: current.secret,
        previous_secret_expires_at: input.previousExpiresAt,
        updated_at: input.now,
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .returningAll()
      .executeTakeFirst();
    return updated ? webhookRowToWebhook(updated) : null;
  }

  /** Deletes the endpoint with its deliveries and their attempts (foreign keys cascade); false when there is none. */
  async delete(input: { organizationId: string; id: string }): Promise<boolean> {
    const result = await this.db
      .deleteFrom('webhooks')
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
