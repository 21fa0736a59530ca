import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { NewWebhook } from '../../../src/domain/webhooks.js';
import { at, newestFirst, randomId, type ContractFixture } from './fixtures.js';

function webhookInput(organizationId: string, overrides: Partial<NewWebhook> = {}): NewWebhook {
  return {
    id: randomId(),
    organization_id: organizationId,
    url: 'https://hooks.example.test/контракт?x=1',
    description: 'Webhook — ünïcode ✓',
    events: ['thread.created', 'execution.*'],
    secret: 'psb1.sealed-current',
    now: at(0),
    ...overrides,
  };
}

/** Webhook endpoints, their deliveries and attempts (migration 0017). */
export function describeWebhookCases(fixture: ContractFixture): void {
  describe('webhooks', () => {
    it('round-trips an endpoint, keeps its secrets out of the domain view, and scopes every read and write to its organisation', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const other = await fixture.newOrganization();
      const input = webhookInput(organizationId);
      const inserted = await store.write((writers) => writers.webhooks.insert(input));
      expect(inserted).toEqual({
        id: input.id,
        organization_id: organizationId,
        url: input.url,
        description: input.description,
        events: input.events,
        enabled: true,
        previous_secret_expires_at: null,
        created_at: at(0),
        updated_at: at(0),
      });
      expect(await store.webhooks.get({ organizationId, id: input.id })).toEqual(inserted);
      expect(await store.webhooks.signingKeys({ organizationId, id: input.id })).toEqual({
        webhook: inserted,
        secret: 'psb1.sealed-current',
        previousSecret: null,
      });

      const foreign = { organizationId: other.organizationId, id: input.id };
      expect(await store.webhooks.get(foreign)).toBeNull();
      expect(await store.webhooks.signingKeys(foreign)).toBeNull();
      expect(await store.webhooks.list({ organizationId: other.organizationId })).toEqual([]);
      await store.write(async (writers) => {
        expect(await writers.webhooks.update({ ...foreign, changes: { enabled: false }, now: at(5) })).toBeNull();
        expect(
          await writers.webhooks.rotateSecret({ ...foreign, secret: 'x', previousExpiresAt: at(9), now: at(5) }),
        ).toBeNull();
        expect(await writers.webhooks.delete(foreign)).toBe(false);
        expect(await writers.webhooks.enabledSubscriptions(other.organizationId)).toEqual([]);
      });
      expect(await store.webhooks.get({ organizationId, id: input.id })).toEqual(inserted);

      const rotated = await store.write((writers) =>
        writers.webhooks.rotateSecret({
          organizationId,
          id: input.id,
          secret: 'psb1.sealed-new',
          previousExpiresAt: at(90),
          now: at(10),
        }),
      );
      expect(rotated).toMatchObject({ previous_secret_expires_at: at(90), updated_at: at(10) });
      expect(await store.webhooks.signingKeys({ organizationId, id: input.id })).toMatchObject({
        secret: 'psb1.sealed-new',
        previousSecret: 'psb1.sealed-current',
      });
    });

    it('lists newest first (ties by id) and gives the publisher only enabled endpoints', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const inputs = [
        webhookInput(organizationId),
        webhookInput(organizationId),
        webhookInput(organizationId, { now: at(3) }),
      ];
      const rows = await store.write(async (writers) => {
        const made = [];
        for (const input of inputs) made.push(await writers.webhooks.insert(input));
        await writers.webhooks.update({
          organizationId,
          id: inputs[0]!.id,
          changes: { enabled: false, events: ['*'] },
          now: at(4),
        });
        return made;
      });
      expect((await store.webhooks.list({ organizationId })).map((row) => row.id)).toEqual(newestFirst(rows));
      const subscriptions = await store.write((writers) => writers.webhooks.enabledSubscriptions(organizationId));
      expect(subscriptions.map((subscription) => subscription.id).sort()).toEqual(
        [inputs[1]!.id, inputs[2]!.id].sort(),
      );
      expect(subscriptions[0]!.events).toEqual(['thread.created', 'execution.*']);
    });

    it('logs deliveries with their attempts, filters by status, and deletes them with their endpoint', async () => {
      const { store, inspector } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const other = await fixture.newOrganization();
      const webhook = webhookInput(organizationId);
      const ids = [randomId(), randomId()];
      await store.write(async (writers) => {
        await writers.webhooks.insert(webhook);
        for (const [index, id] of ids.entries()) {
          const body = JSON.stringify({
            type: 'thread.created',
            timestamp: at(index),
            data: { n: index, text: 'ünï' },
          });
          await writers.webhookDeliveries.insert({
            id,
            organization_id: organizationId,
            webhook_id: webhook.id,
            event_type: 'thread.created',
            body,
            now: at(index),
          });
        }
      });
      const attempt = (number: number, status: number | null) => ({
        attempt: number,
        status_code: status,
        duration_ms: 12,
        error: status === 200 ? null : 'the receiver answered 500',
        attempted_at: at(10 + number),
      });
      await store.write(async (writers) => {
        await writers.webhookDeliveries.recordAttempt({
          id: randomId(),
          organizationId,
          deliveryId: ids[0]!,
          attempt: attempt(1, 500),
        });
        await writers.webhookDeliveries.recordAttempt({
          id: randomId(),
          organizationId,
          deliveryId: ids[0]!,
          attempt: attempt(2, 200),
        });
        await writers.webhookDeliveries.finish({ organizationId, id: ids[0]!, status: 'delivered', now: at(20) });
      });
      const page = { organizationId, webhookId: webhook.id, limit: 10, offset: 0 };
      const all = await store.webhookDeliveries.list(page);
      expect(all.map((delivery) => delivery.id)).toEqual([ids[1], ids[0]]);
      expect(all[1]).toMatchObject({
        status: 'delivered',
        attempts: 2,
        last_status_code: 200,
        last_error: null,
        delivered_at: at(20),
        payload: { type: 'thread.created', data: { n: 0, text: 'ünï' } },
        attempt_log: [attempt(1, 500), attempt(2, 200)],
      });
      expect(
        (await store.webhookDeliveries.list({ ...page, status: 'pending' })).map((delivery) => delivery.id),
      ).toEqual([ids[1]]);
      expect(
        (await store.webhookDeliveries.list({ ...page, limit: 1, offset: 1 })).map((delivery) => delivery.id),
      ).toEqual([ids[0]]);
      expect(await store.webhookDeliveries.list({ ...page, organizationId: other.organizationId })).toEqual([]);
      expect(await store.webhookDeliveries.get({ organizationId: other.organizationId, id: ids[0]! })).toBeNull();
      expect(
        await store.write((writers) => writers.webhookDeliveries.pendingIds({ organizationId, webhookId: webhook.id })),
      ).toEqual([ids[1]]);

      expect(await store.write((writers) => writers.webhooks.delete({ organizationId, id: webhook.id }))).toBe(true);
      const count = async (table: 'webhook_deliveries' | 'webhook_delivery_attempts') => {
        const result = await sql<{ count: number | string }>`
          select count(*) as count from ${sql.table(table)} where organization_id = ${organizationId}
        `.execute(inspector);
        return Number(result.rows[0]?.count);
      };
      expect([await count('webhook_deliveries'), await count('webhook_delivery_attempts')]).toEqual([0, 0]);
    });
  });
}
