import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { subscribes } from '../../src/domain/webhooks.js';
import { newId } from '../../src/ids.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { WebhookPublisher } from '../../src/webhooks/webhook-publisher.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The webhook outbox on a real database (SQLite; PostgreSQL with PARLEY_TEST_DATABASE=postgres):
 * a published event is a delivery row and its job in the transaction that published it — both or
 * neither — and only for enabled endpoints that subscribe to it.
 */

let database: TestDatabase;
let store: Store;
let organizationId: string;
let wakes = 0;
const config = { ...loadConfig({}).webhooks, maxAttempts: 5, backoffMs: 1000, backoffMaxMs: 8000 };
const publisher = new WebhookPublisher({ newId, config, wake: () => void (wakes += 1) });
const now = '2026-12-02T06:00:00.000Z';

beforeAll(async () => {
  database = await createTestDatabase();
  store = await openStore(database.target);
  organizationId = newId();
  await store.write((writers) =>
    writers.organizations.ensure({ id: organizationId, name: `outbox-${organizationId}`, now }),
  );
});
afterAll(async () => {
  await store.close();
  await database.destroy();
});

async function endpoint(events: string[], enabled = true): Promise<string> {
  const id = newId();
  await store.write(async (writers) => {
    await writers.webhooks.insert({
      id,
      organization_id: organizationId,
      url: 'https://hooks.example.test/',
      description: '',
      events,
      secret: 'psb1.x',
      now,
    });
    if (!enabled) await writers.webhooks.update({ organizationId, id, changes: { enabled: false }, now });
  });
  return id;
}

describe('the webhook outbox', () => {
  it('writes nothing when the publishing transaction rolls back', async () => {
    const webhookId = await endpoint(['thread.created']);
    const event = { organizationId, type: 'thread.created', data: { id: 'rolled-back' }, now };
    let published: string[] = [];
    await expect(
      store.write(async (writers) => {
        published = await publisher.publish(writers, event);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(published).toHaveLength(1);
    expect(await store.webhookDeliveries.get({ organizationId, id: published[0]! })).toBeNull();
    expect(await store.jobs.active({ organizationId, subjectId: published[0]! })).toBeNull();
    expect(await store.webhookDeliveries.list({ organizationId, webhookId, limit: 10, offset: 0 })).toEqual([]);
    expect(wakes).toBe(0);
  });

  it('writes one delivery and one webhook_delivery job per subscribed, enabled endpoint when it commits', async () => {
    const exact = await endpoint(['run.completed']);
    const wildcard = await endpoint(['execution.*']);
    const everything = await endpoint(['*']);
    await endpoint(['run.completed'], false);
    await endpoint(['feedback.created']);
    const events = [
      { organizationId, type: 'run.completed', data: { run_id: 'r1' }, now },
      { organizationId, type: 'execution.completed', data: { execution_id: 'r1' }, now },
    ];
    const ids = await store.write((writers) => publisher.publishAll(writers, events));
    expect(ids).toHaveLength(4);
    const delivered = [];
    for (const id of ids) {
      const delivery = await store.webhookDeliveries.get({ organizationId, id });
      const job = await store.jobs.active({ organizationId, subjectId: id });
      expect(job).toMatchObject({
        kind: 'webhook_delivery',
        status: 'queued',
        max_attempts: 5,
        backoff: { kind: 'exponential', base_ms: 1000, max_ms: 8000 },
        payload: { webhook_id: delivery!.webhook_id },
      });
      delivered.push([delivery!.webhook_id, delivery!.event_type, delivery!.status]);
      expect(delivery!.payload).toEqual({
        type: delivery!.event_type,
        timestamp: now,
        data: events.find((event) => event.type === delivery!.event_type)!.data,
      });
    }
    expect(delivered.sort()).toEqual(
      [
        [exact, 'run.completed', 'pending'],
        [everything, 'run.completed', 'pending'],
        [wildcard, 'execution.completed', 'pending'],
        [everything, 'execution.completed', 'pending'],
      ].sort(),
    );
  });

  it('matches subscriptions: exact types, execution.* and *', () => {
    expect(subscribes(['execution.*'], 'execution.failed')).toBe(true);
    expect(subscribes(['execution.*'], 'run.failed')).toBe(false);
    expect(subscribes(['*'], 'webhook.test')).toBe(true);
    expect(subscribes(['run.completed'], 'run.failed')).toBe(false);
    expect(subscribes([], 'run.failed')).toBe(false);
  });
});
