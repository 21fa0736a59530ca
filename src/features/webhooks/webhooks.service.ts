import type { WebhooksConfig } from '../../config-webhooks.js';
import { WEBHOOK_TEST_EVENT, type Webhook, type WebhookChanges, type WebhookDelivery } from '../../domain/webhooks.js';
import type { WebhookDeliveryStatus } from '../../domain/webhooks.js';
import { AppError, validationError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import { OutboundError } from '../../outbound/outbound-error.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import type { WebhookPublisher } from '../../webhooks/webhook-publisher.js';
import { generateWebhookSecret } from '../../webhooks/webhook-signature.js';

export interface CreatedWebhook extends Webhook {
  /** Shown only in the create response; sealed at rest. */
  secret: string | null;
}

type WebhookKey = { organizationId: string; id: string };

/** Webhook endpoints (docs/webhooks.md): made, changed, rotated, tested and deleted by admins. */
export class WebhooksService {
  constructor(
    private readonly dependencies: {
      store: Store;
      box: SecretBox;
      clock: Clock;
      newId: IdGenerator;
      outbound: OutboundClient;
      publisher: WebhookPublisher;
      config: WebhooksConfig;
    },
  ) {}

  async create(input: {
    organizationId: string;
    body: { url: string; events: string[]; description?: string | undefined };
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<CreatedWebhook> {
    const { store, box, clock, newId } = this.dependencies;
    const url = this.#checkedUrl(input.body.url);
    const secret = generateWebhookSecret();
    const now = clock.now().toISOString();
    const webhook = {
      id: newId(),
      organization_id: input.organizationId,
      url,
      description: input.body.description ?? '',
      events: input.body.events,
      secret: box.seal(secret),
      now,
    };
    return store.write(async (writers) => ({ ...(await writers.webhooks.insert(webhook)), secret }), {
      idempotency: input.idempotency,
      // A replay cannot show the secret again: it is stored sealed only.
      replayBody: (result) => ({ ...result, secret: null }),
    });
  }

  list(input: { organizationId: string }): Promise<Webhook[]> {
    return this.dependencies.store.webhooks.list(input);
  }

  async require(input: WebhookKey): Promise<Webhook> {
    const webhook = await this.dependencies.store.webhooks.get(input);
    if (!webhook) throw new AppError('webhook_not_found');
    return webhook;
  }

  async update(input: WebhookKey & { changes: WebhookChanges }): Promise<Webhook> {
    const changes = { ...input.changes };
    if (changes.url !== undefined) changes.url = this.#checkedUrl(changes.url);
    const now = this.dependencies.clock.now().toISOString();
    const updated = await this.dependencies.store.write((writers) =>
      writers.webhooks.update({ ...input, changes, now }),
    );
    if (!updated) throw new AppError('webhook_not_found');
    return updated;
  }

  /** Deletes the endpoint, its log, and the queued jobs of its pending deliveries. */
  async delete(input: WebhookKey): Promise<void> {
    const deleted = await this.dependencies.store.write(async (writers) => {
      const pending = await writers.webhookDeliveries.pendingIds({
        organizationId: input.organizationId,
        webhookId: input.id,
      });
      if (!(await writers.webhooks.delete(input))) return false;
      await writers.jobs.deleteForSubjects({ organizationId: input.organizationId, subjectIds: pending });
      return true;
    });
    if (!deleted) throw new AppError('webhook_not_found');
  }

  /** A new secret, shown once; the old one keeps signing (beside it) for WEBHOOK_SECRET_OVERLAP_HOURS. */
  /** A new signing secret, shown once (an Idempotency-Key replay answers `secret: null`). */
  async rotateSecret(
    input: WebhookKey & { idempotency?: IdempotencyClaim | undefined },
  ): Promise<{ secret: string | null; previous_secret_expires_at: string }> {
    const { store, box, clock, config } = this.dependencies;
    const { idempotency, ...key } = input;
    const secret = generateWebhookSecret();
    const now = clock.now();
    const previousExpiresAt = new Date(now.getTime() + config.secretOverlapHours * 3_600_000).toISOString();
    const sealed = box.seal(secret);
    return store.write(
      async (writers) => {
        const rotated = await writers.webhooks.rotateSecret({
          ...key,
          secret: sealed,
          previousExpiresAt,
          now: now.toISOString(),
        });
        if (!rotated) throw new AppError('webhook_not_found');
        return { secret, previous_secret_expires_at: previousExpiresAt };
      },
      { idempotency, replayBody: (result) => ({ ...result, secret: null }) },
    );
  }

  /**
   * Queues a `webhook.test` delivery to the endpoint (enabled or not) now; returns it, pending.
   * With an Idempotency-Key a retried request answers the first delivery instead of sending another.
   */
  async sendTest(input: WebhookKey & { idempotency?: IdempotencyClaim | undefined }): Promise<WebhookDelivery> {
    const { store, clock, publisher } = this.dependencies;
    const { idempotency, ...key } = input;
    const now = clock.now().toISOString();
    // Read back in its own transaction: after the commit the worker may already be sending it.
    const delivery = await store.write(
      async (writers) => {
        const webhook = await writers.webhooks.get(key);
        if (!webhook) throw new AppError('webhook_not_found');
        const data = { webhook_id: webhook.id, message: 'A test delivery from Parley.' };
        const event = {
          organizationId: key.organizationId,
          webhookId: webhook.id,
          type: WEBHOOK_TEST_EVENT,
          data,
          now,
        };
        const id = await publisher.deliverTo(writers, event);
        const pending = await writers.webhookDeliveries.get({ organizationId: key.organizationId, id });
        if (!pending) throw new Error(`webhook delivery ${id} not readable in its own transaction`);
        return pending;
      },
      { idempotency },
    );
    publisher.wake();
    return delivery;
  }

  async deliveries(input: WebhookKey & { status?: WebhookDeliveryStatus | undefined; limit: number; offset: number }) {
    await this.require(input);
    const { id, ...rest } = input;
    const deliveries = await this.dependencies.store.webhookDeliveries.list({ ...rest, webhookId: id });
    return { deliveries, limit: input.limit, offset: input.offset };
  }

  /**
   * https (http too with WEBHOOK_ALLOW_HTTP), and a destination the guarded client may reach by
   * the rules that need no DNS — 422 `url_not_allowed` otherwise. DNS is checked at each delivery.
   */
  #checkedUrl(url: string): string {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw validationError(['body', 'url'], 'Input should be a valid URL');
    }
    const schemes = this.dependencies.config.allowHttp ? ['https:', 'http:'] : ['https:'];
    if (!schemes.includes(parsed.protocol)) {
      const allowed = this.dependencies.config.allowHttp ? 'http or https' : 'https';
      throw validationError(['body', 'url'], `URL scheme should be ${allowed}`);
    }
    try {
      this.dependencies.outbound.checkUrl(parsed);
    } catch (error) {
      if (!(error instanceof OutboundError)) throw error;
      throw new AppError('url_not_allowed', {
        message: `${new AppError('url_not_allowed').message} (${error.message})`,
      });
    }
    return parsed.href;
  }
}
