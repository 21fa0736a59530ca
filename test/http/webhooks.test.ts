import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { dumpDatabase } from '../helpers/routes.js';
import { createStubResolver } from '../helpers/ssrf-vectors.js';
import { settledDeliveries } from '../helpers/webhook-receiver.js';

/**
 * The webhook endpoints' API (docs/webhooks.md): the secret shown once and sealed at rest, URLs
 * refused by the outbound destination policy at create and at delivery (unless the operator
 * allows them; plain http with WEBHOOK_ALLOW_HTTP is in webhook-deliveries.test.ts), updates, deletion, and
 * another organisation's endpoints answered 404.
 */

// `rebind.example.test` passes the checks at create (a public-looking name) but resolves to
// loopback when a delivery is made; `hooks.example.test` resolves to a public address.
const resolver = createStubResolver({
  'rebind.example.test': ['127.0.0.1'],
  'hooks.example.test': ['93.184.215.14'],
});

let context: TestContext;
let api: Api;
beforeAll(async () => {
  context = await createTestContext({
    outboundLookup: resolver.lookup,
    outboundAllow: '10.0.0.8',
    webhooks: { maxAttempts: 1, backoffMs: 10, timeoutMs: 1000 },
    jobs: { pollMs: 50 },
  });
  api = client(context, (await context.newOrganization()).key);
});
afterAll(async () => {
  await context.close();
});

const create = (body: Record<string, unknown>, headers?: Record<string, string>) =>
  api.post('/api/v1/webhooks', { url: 'https://hooks.example.test/parley', events: ['run.failed'], ...body }, headers);

describe('POST /api/v1/webhooks', () => {
  it('shows a whsec_ secret once, seals it at rest, and never shows it again (list, get, replay, logs)', async () => {
    const response = await create(
      { events: ['thread.created', 'execution.*'], description: 'CRM sync' },
      { 'idempotency-key': 'wh-1' },
    );
    expect(response.status).toBe(200);
    const { secret, ...webhook } = response.body;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(webhook).toMatchObject({
      url: 'https://hooks.example.test/parley',
      description: 'CRM sync',
      events: ['thread.created', 'execution.*'],
      enabled: true,
      previous_secret_expires_at: null,
    });

    const replay = await create(
      { events: ['thread.created', 'execution.*'], description: 'CRM sync' },
      { 'idempotency-key': 'wh-1' },
    );
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ ...webhook, secret: null });
    const list = await api.get('/api/v1/webhooks');
    expect(list.body.filter((item: any) => item.id === webhook.id)).toEqual([webhook]);
    const one = await api.get(`/api/v1/webhooks/${webhook.id}`);
    expect(one.body).toEqual(webhook);
    for (const raw of [list.raw, one.raw, replay.raw]) expect(raw).not.toContain(secret.slice(6));

    const dump = JSON.stringify(await dumpDatabase(context));
    expect(dump).not.toContain(secret.slice(6));
    const [row] = (await dumpDatabase(context)).webhooks!.filter((stored: any) => stored.id === webhook.id) as any[];
    expect(row.secret).toMatch(/^psb1\./);
    expect(context.logs.join('\n')).not.toContain(secret.slice(6));
  });

  it('refuses private, loopback and metadata destinations, and plain http, with 422 before storing anything', async () => {
    const before = (await api.get('/api/v1/webhooks')).body.length;
    const refused = [
      'https://127.0.0.1/hook',
      'https://10.0.0.9/hook',
      'https://169.254.169.254/latest',
      'https://[::ffff:127.0.0.1]/hook',
      'https://localhost/hook',
      'https://user:password@hooks.example.test/hook',
    ];
    for (const url of refused) {
      const response = await create({ url });
      expect(response.status, url).toBe(422);
      expect(response.body.code, url).toBe('url_not_allowed');
    }
    const http = await create({ url: 'http://hooks.example.test/hook' });
    expect(http.status).toBe(422);
    expect(http.body.detail).toEqual([
      { loc: ['body', 'url'], msg: 'URL scheme should be https', type: 'value_error' },
    ]);
    const unknownEvent = await create({ events: ['thread.deleted'] });
    expect(unknownEvent.status).toBe(422);
    expect((await api.get('/api/v1/webhooks')).body).toHaveLength(before);
  });

  it('accepts a private destination the operator allows (OUTBOUND_ALLOW)', async () => {
    const response = await create({ url: 'https://10.0.0.8/hook' });
    expect(response.status).toBe(200);
    expect(response.body.url).toBe('https://10.0.0.8/hook');
  });

  it('checks the destination again at delivery: a name that now resolves to loopback is refused without a connection', async () => {
    const created = await create({ url: 'https://rebind.example.test/hook', events: ['thread.created'] });
    expect(created.status).toBe(200);
    const agent = await api.createAgent();
    await api.createThread(agent.id);
    const [delivery] = await settledDeliveries(context, { key: api.key, webhookId: created.body.id, count: 1 });
    expect(delivery).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_status_code: null,
      last_error: 'outbound_blocked: address',
    });
    expect(resolver.queries).toContain('rebind.example.test');
  });
});

describe('PATCH and DELETE /api/v1/webhooks/{webhook_id}', () => {
  it('changes the fields given, re-checks a new URL, and a disabled endpoint gets no deliveries', async () => {
    const created = (await create({ events: ['thread.created'] })).body;
    const refused = await api.patch(`/api/v1/webhooks/${created.id}`, { url: 'https://192.168.1.1/hook' });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('url_not_allowed');
    const updated = await api.patch(`/api/v1/webhooks/${created.id}`, { enabled: false, description: 'paused' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      enabled: false,
      description: 'paused',
      url: created.url,
      events: ['thread.created'],
    });
    expect(updated.body).not.toHaveProperty('secret');
    const agent = await api.createAgent();
    await api.createThread(agent.id);
    // Deliveries are written with the event: none now means none ever for this thread.
    expect((await api.get(`/api/v1/webhooks/${created.id}/deliveries`)).body).toEqual({
      deliveries: [],
      limit: 50,
      offset: 0,
    });
    expect((await api.patch(`/api/v1/webhooks/${created.id}`, {})).status).toBe(422);
  });

  it('deletes an endpoint with its log and its queued jobs; then it is 404', async () => {
    const created = (await create({ events: ['thread.created'] })).body;
    const test = await api.post(`/api/v1/webhooks/${created.id}/test`, {});
    expect(test.status).toBe(200);
    expect((await api.delete(`/api/v1/webhooks/${created.id}`)).status).toBe(204);
    for (const url of [`/api/v1/webhooks/${created.id}`, `/api/v1/webhooks/${created.id}/deliveries`]) {
      const response = await api.get(url);
      expect(response.status, url).toBe(404);
      expect(response.body.code, url).toBe('webhook_not_found');
    }
    const dump = await dumpDatabase(context);
    expect(dump.webhook_deliveries!.filter((row: any) => row.webhook_id === created.id)).toEqual([]);
    expect((dump.jobs as any[]).filter((job) => job.subject_id === test.body.id && job.status === 'queued')).toEqual(
      [],
    );
  });
});

describe('Idempotency-Key on the actions', () => {
  it('replays a test delivery and a rotation instead of repeating them; the replayed rotation shows no secret', async () => {
    const created = (await create({ events: ['thread.created'] })).body;
    const send = () => api.post(`/api/v1/webhooks/${created.id}/test`, {}, { 'idempotency-key': 'test-1' });
    const [first, again] = [await send(), await send()];
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const deliveries = (await dumpDatabase(context)).webhook_deliveries!.filter(
      (row: any) => row.webhook_id === created.id,
    );
    expect(deliveries.map((row: any) => row.id)).toEqual([first.body.id]);

    const rotate = () => api.post(`/api/v1/webhooks/${created.id}/rotate-secret`, {}, { 'idempotency-key': 'rot-1' });
    const rotated = await rotate();
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    const sealed = async () =>
      ((await dumpDatabase(context)).webhooks!.find((row: any) => row.id === created.id) as any).secret;
    const sealedAfterFirst = await sealed();
    const replayed = await rotate();
    expect(replayed.status).toBe(200);
    expect(replayed.body).toEqual({ ...rotated.body, secret: null });
    expect(await sealed()).toBe(sealedAfterFirst);
    expect(replayed.raw).not.toContain(rotated.body.secret.slice('whsec_'.length));
  });

  it('answers an unknown endpoint 404 under a key and records nothing, so the key stays free', async () => {
    const missing = '0193a4f0-0000-7000-8000-000000000000';
    const response = await api.post(`/api/v1/webhooks/${missing}/rotate-secret`, {}, { 'idempotency-key': 'rot-404' });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('webhook_not_found');
    const rows = (await dumpDatabase(context)).idempotency_keys as any[] | undefined;
    expect((rows ?? []).filter((row) => row.key === 'rot-404')).toEqual([]);
  });
});

describe('tenancy', () => {
  it("answers another organisation's endpoint 404 on every route and changes nothing", async () => {
    const created = (await create({ events: ['*'] })).body;
    const other = client(context, (await context.newOrganization()).key);
    const before = await dumpDatabase(context);
    const id = created.id;
    const calls = [
      other.get(`/api/v1/webhooks/${id}`),
      other.patch(`/api/v1/webhooks/${id}`, { enabled: false }),
      other.delete(`/api/v1/webhooks/${id}`),
      other.get(`/api/v1/webhooks/${id}/deliveries`),
      other.post(`/api/v1/webhooks/${id}/test`, {}),
      other.post(`/api/v1/webhooks/${id}/rotate-secret`, {}),
    ];
    for (const response of await Promise.all(calls)) {
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('webhook_not_found');
    }
    expect((await other.get('/api/v1/webhooks')).body).toEqual([]);
    expect(await dumpDatabase(context)).toEqual(before);
  });
});
