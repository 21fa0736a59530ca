import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext, type TestOrganization } from '../helpers/harness.js';
import { dumpDatabase, expectError, sqliteFileBytes } from '../helpers/routes.js';
import { createWidgetKey } from '../helpers/widget.js';
import { UUID_PATTERN } from '../helpers/ids.js';

/**
 * Widget keys (issue 12, part B): an admin makes a publishable key bound to one agent and a list
 * of allowed origins; its secrets are shown once and kept only hashed or sealed.
 */

const SHOP = 'https://shop.example';
let context: TestContext;
let orgA: TestOrganization;
let orgB: TestOrganization;
let adminA: Api;
let adminB: Api;
let agentA: string;

beforeAll(async () => {
  context = await createTestContext();
  orgA = await context.newOrganization();
  orgB = await context.newOrganization();
  adminA = client(context, orgA.key);
  adminB = client(context, orgB.key);
  agentA = (await adminA.createAgent({ name: 'Shop assistant' })).id;
});
afterAll(() => context.close());

describe('widget keys', () => {
  it('creates a key for one agent, showing its publishable key and identity secret once', async () => {
    const created = await createWidgetKey(adminA, agentA, [SHOP, 'http://localhost:5173', SHOP]);
    expect(created).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      organization_id: orgA.organizationId,
      agent_id: agentA,
      name: 'Shop widget',
      prefix: expect.stringMatching(/^pwk_[0-9a-f]{32}_$/),
      allowed_origins: [SHOP, 'http://localhost:5173'],
      created_at: expect.any(String),
      revoked_at: null,
      publishable_key: expect.stringMatching(/^pwk_[0-9a-f]{32}_[\w-]{43}$/),
      identity_secret: expect.stringMatching(/^wis_[\w-]{43}$/),
    });
    expect(created.publishable_key.startsWith(created.prefix)).toBe(true);
    const { publishable_key: _key, identity_secret: _secret, ...shown } = created;
    expect((await adminA.get(`/api/v1/widget-keys/${created.id}`)).body).toEqual(shown);
    const listed = await adminA.get(`/api/v1/widget-keys?agent_id=${agentA}`);
    expect(listed.body).toContainEqual(shown);

    // Neither secret is anywhere in the database: the key is hashed, the secret sealed.
    const target = context.database.target;
    const bytes =
      target.kind === 'sqlite'
        ? sqliteFileBytes(target.filename).toString('latin1')
        : JSON.stringify(await dumpDatabase(context));
    expect(bytes).toContain(created.id);
    expect(bytes.includes(created.publishable_key)).toBe(false);
    expect(bytes.includes(created.identity_secret)).toBe(false);
    expect(bytes.includes(created.identity_secret.slice(4))).toBe(false);
  });

  it('replays a creation under the same Idempotency-Key without the secrets', async () => {
    const body = { agent_id: agentA, name: 'Replayed', allowed_origins: [SHOP] };
    const first = await adminA.post('/api/v1/widget-keys', body, { 'idempotency-key': 'widget-key-1' });
    const replay = await adminA.post('/api/v1/widget-keys', body, { 'idempotency-key': 'widget-key-1' });
    expect(first.body.publishable_key).toMatch(/^pwk_/);
    expect(replay.body).toEqual({ ...first.body, publishable_key: null, identity_secret: null });
  });

  it('refuses origins that are not exact origins, naming the one at fault, and stores nothing', async () => {
    const before = await dumpDatabase(context);
    for (const [index, origin] of [
      [1, 'https://shop.example/'],
      [1, 'shop.example'],
      [1, 'ftp://shop.example'],
      [1, 'https://shop.example/checkout'],
      [1, 'null'],
    ] as const) {
      const response = await adminA.post('/api/v1/widget-keys', {
        agent_id: agentA,
        name: 'Bad',
        allowed_origins: [SHOP, origin],
      });
      expect({ origin, status: response.status, loc: response.body.detail?.[0]?.loc }).toEqual({
        origin,
        status: 422,
        loc: ['body', 'allowed_origins', index],
      });
    }
    const empty = await adminA.post('/api/v1/widget-keys', { agent_id: agentA, name: 'Bad', allowed_origins: [] });
    expect(empty.status).toBe(422);
    expect(await dumpDatabase(context)).toEqual(before);
  });

  it('is 404 for another organisation: its agent, its keys, and revoking them', async () => {
    const created = await createWidgetKey(adminA, agentA, [SHOP]);
    const before = await dumpDatabase(context);
    const foreignAgent = await adminB.post('/api/v1/widget-keys', {
      agent_id: agentA,
      name: 'x',
      allowed_origins: [SHOP],
    });
    expectError(foreignAgent, 404, 'agent_not_found');
    expectError(await adminB.get(`/api/v1/widget-keys/${created.id}`), 404, 'widget_key_not_found');
    expectError(await adminB.delete(`/api/v1/widget-keys/${created.id}`), 404, 'widget_key_not_found');
    expect((await adminB.get('/api/v1/widget-keys')).body).toEqual([]);
    expect(await dumpDatabase(context)).toEqual(before);
  });

  it('needs the admin scope', async () => {
    const writer = client(context, await orgA.keyWith(['read', 'write']));
    const created = await createWidgetKey(adminA, agentA, [SHOP]);
    expectError(await writer.get('/api/v1/widget-keys'), 403, 'insufficient_scope');
    expectError(
      await writer.post('/api/v1/widget-keys', { agent_id: agentA, name: 'x', allowed_origins: [SHOP] }),
      403,
      'insufficient_scope',
    );
    expectError(await writer.delete(`/api/v1/widget-keys/${created.id}`), 403, 'insufficient_scope');
  });

  it('revokes a key once; revoking again answers the same key', async () => {
    const created = await createWidgetKey(adminA, agentA, [SHOP]);
    const revoked = await adminA.delete(`/api/v1/widget-keys/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    const again = await adminA.delete(`/api/v1/widget-keys/${created.id}`);
    expect(again.body).toEqual(revoked.body);
  });
});
