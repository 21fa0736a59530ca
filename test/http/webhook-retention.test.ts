import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryRetention } from '../../src/app-webhooks.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { settledDeliveries, startWebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The delivery log's retention (WEBHOOK_DELIVERY_RETENTION_DAYS, docs/webhooks.md): finished
 * deliveries — delivered or failed — older than the retention go with their attempts; younger
 * ones and pending ones stay, whatever their age. Deliveries are made by the real queue over
 * loopback HTTP on a clock moved 40 days back, then swept at today's time.
 */

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const DAY_MS = 86_400_000;

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext({
    clock,
    outboundAllow: '127.0.0.1',
    webhooks: { allowHttp: true, maxAttempts: 2, backoffMs: 10, backoffMaxMs: 20, timeoutMs: 2000 },
    jobs: { pollMs: 50 },
  });
});
afterAll(async () => {
  await context.close();
});

async function attemptsOf(deliveryIds: string[]): Promise<number> {
  const counts = await Promise.all(
    deliveryIds.map(
      async (id) => (await context.store.webhookDeliveries.get({ organizationId: organization, id }))?.attempts ?? -1,
    ),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}
let organization = '';

describe('webhook delivery retention', () => {
  it('deletes finished deliveries older than the retention with their attempts, and keeps young and pending ones', async () => {
    const healthy = await startWebhookReceiver();
    const broken = await startWebhookReceiver([500, 500, 500, 500]);
    try {
      const tenant = await context.newOrganization();
      organization = tenant.organizationId;
      const api = client(context, tenant.key);
      const make = async (url: string) =>
        (await api.post('/api/v1/webhooks', { url, events: ['thread.created'], description: 'retention' })).body as {
          id: string;
        };
      const good = await make(healthy.url);
      const bad = await make(broken.url);
      const agent = await api.createAgent();

      offsetMs = -40 * DAY_MS;
      await api.createThread(agent.id);
      const [oldDelivered] = await settledDeliveries(context, { key: tenant.key, webhookId: good.id, count: 1 });
      const [oldFailed] = await settledDeliveries(context, { key: tenant.key, webhookId: bad.id, count: 1 });
      expect([oldDelivered.status, oldFailed.status]).toEqual(['delivered', 'failed']);
      expect(await attemptsOf([oldDelivered.id, oldFailed.id])).toBe(3);
      offsetMs = -1 * DAY_MS;
      await api.createThread(agent.id);
      const [young] = await settledDeliveries(context, { key: tenant.key, webhookId: good.id, count: 2 }).then(
        (deliveries) => deliveries.filter((delivery) => delivery.id !== oldDelivered.id),
      );
      // The broken endpoint's young delivery too: one still retrying when the clock moves back
      // would end "40 days ago" between the two sweeps below.
      await settledDeliveries(context, { key: tenant.key, webhookId: bad.id, count: 2 });
      offsetMs = -40 * DAY_MS;
      const oldPending = await context.store.write(async (writers) => {
        const delivery = {
          id: `pending-${Date.now()}`,
          organization_id: organization,
          webhook_id: good.id,
          event_type: 'thread.created',
          body: '{}',
          now: clock.now().toISOString(),
        };
        await writers.webhookDeliveries.insert(delivery);
        return delivery.id;
      });

      offsetMs = 0;

      const sweep = deliveryRetention({ store: context.store, clock, days: 30, log: context.parley.app.log });
      expect(await sweep.sweep()).toBe(2);
      expect(await sweep.sweep()).toBe(0);

      const goodLog = await api.get(`/api/v1/webhooks/${good.id}/deliveries`);
      expect(goodLog.status).toBe(200);
      const kept = (goodLog.body.deliveries as { id: string; status: string }[]).map((delivery) => delivery.id).sort();
      expect(kept).toEqual([oldPending, young.id].sort());
      const badLog = await api.get(`/api/v1/webhooks/${bad.id}/deliveries`);
      expect((badLog.body.deliveries as { id: string }[]).map((delivery) => delivery.id)).not.toContain(oldFailed.id);
      expect(await context.store.webhookDeliveries.get({ organizationId: organization, id: oldFailed.id })).toBeNull();
    } finally {
      offsetMs = 0;
      await Promise.all([healthy.close(), broken.close()]);
    }
  });

  it('keeps everything when the retention is 0 days', async () => {
    const sweep = deliveryRetention({ store: context.store, clock, days: 0, log: context.parley.app.log });
    sweep.start();
    await sweep.stop();
    expect(await sweep.sweep()).toBe(0);
  });
});
