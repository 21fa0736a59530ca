import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { dumpDatabase, expectError } from '../helpers/routes.js';
import { UUID_PATTERN } from '../helpers/ids.js';
import {
  createWidgetKey,
  startSession,
  userHash,
  visitorClient,
  type CreatedWidgetKey,
  type VisitorClient,
} from '../helpers/widget.js';

/**
 * Identity upgrade (issue 12, part B): only a `user_hash` the host site's server computed with the
 * widget key's identity secret links an anonymous visitor to a widget user, whose history then
 * follows them to other devices.
 */

const SHOP = 'https://shop.example';
let context: TestContext;
let admin: Api;
let agentId: string;
let widgetKey: CreatedWidgetKey;

async function device() {
  const session = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP });
  return { visitor: visitorClient(context, session.token, SHOP), id: session.anon_user_id };
}

async function createThread(visitor: VisitorClient, title: string) {
  const response = await visitor.post(`/api/v1/chat/${agentId}/threads`, { agent_id: agentId, title, metadata: {} });
  expect(response.status, response.raw).toBe(200);
  return response.body as { id: string };
}

const listIds = async (visitor: VisitorClient) =>
  ((await visitor.get(`/api/v1/chat/${agentId}/threads`)).body as { id: string }[]).map((thread) => thread.id).sort();

function identify(visitor: VisitorClient, userId: string, hash: string, extra: Record<string, unknown> = {}) {
  return visitor.post('/api/v1/widget/identify', { user_id: userId, user_hash: hash, ...extra });
}

beforeAll(async () => {
  context = await createTestContext();
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant' })).id;
  widgetKey = await createWidgetKey(admin, agentId, [SHOP]);
});
afterAll(() => context.close());

describe('identify', () => {
  it('refuses a wrong, foreign or malformed user_hash and changes nothing', async () => {
    const { visitor } = await device();
    await createThread(visitor, 'Anonymous question');
    const otherKey = await createWidgetKey(admin, agentId, [SHOP]);
    const before = await dumpDatabase(context);
    for (const [name, hash] of Object.entries({
      otherUser: userHash(widgetKey.identity_secret, 'user-2'),
      otherSecret: userHash(otherKey.identity_secret, 'user-1'),
      publishableKeyAsSecret: userHash(widgetKey.publishable_key, 'user-1'),
      truncated: userHash(widgetKey.identity_secret, 'user-1').slice(0, 63),
      notHex: 'z'.repeat(64),
      empty: '0'.repeat(64),
    })) {
      expectError(await identify(visitor, 'user-1', hash), 403, 'invalid_user_hash', name);
    }
    expect(await dumpDatabase(context)).toEqual(before);
  });

  it('links the visitor with a valid hash; their history follows them to another device', async () => {
    const laptop = await device();
    const before = await createThread(laptop.visitor, 'Asked on the laptop');
    const hash = userHash(widgetKey.identity_secret, 'customer-42');
    const linked = await identify(laptop.visitor, 'customer-42', hash, { name: 'Ada', email: 'ada@shop.example' });
    expect(linked.status, linked.raw).toBe(200);
    expect(linked.body).toEqual({
      anon_user_id: laptop.id,
      widget_user: {
        id: expect.stringMatching(UUID_PATTERN),
        user_name: 'Ada',
        user_email: 'ada@shop.example',
        verified_user_name: null,
        verified_user_email: null,
        ip_address: '127.0.0.1',
        verified: true,
        identified_by_tool: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    });
    const widgetUserId = linked.body.widget_user.id;
    const dump = await dumpDatabase(context);
    expect(dump.anonymous_users!.find((row: any) => row.id === laptop.id)).toMatchObject({
      widget_user_id: widgetUserId,
    });
    expect(dump.chat_threads!.find((row: any) => row.id === before.id)).toMatchObject({
      anon_user_id: laptop.id,
      widget_user_id: widgetUserId,
    });
    expect(dump.widget_users!.filter((row: any) => row.external_user_id === 'customer-42')).toHaveLength(1);

    const phone = await device();
    const stranger = await device();
    await createThread(stranger.visitor, 'Someone else');
    expect(await listIds(phone.visitor)).toEqual([]);
    expectError(await phone.visitor.get(`/api/v1/chat/${agentId}/threads/${before.id}`), 404, 'thread_not_found');
    const again = await identify(phone.visitor, 'customer-42', hash);
    expect(again.body.widget_user.id).toBe(widgetUserId);
    // Identifying again without a name keeps the one given before.
    expect(again.body.widget_user.user_name).toBe('Ada');
    const onPhone = await createThread(phone.visitor, 'Asked on the phone');
    expect(await listIds(phone.visitor)).toEqual([before.id, onPhone.id].sort());
    expect(await listIds(laptop.visitor)).toEqual([before.id, onPhone.id].sort());
    expect((await phone.visitor.get(`/api/v1/chat/${agentId}/threads/${before.id}/messages`)).status).toBe(200);
    const posted = await phone.visitor.post(`/api/v1/chat/${agentId}/threads/${before.id}/messages`, {
      role: 'user',
      content: 'Any news?',
    });
    expect(posted.status, posted.raw).toBe(200);
    expect(await listIds(stranger.visitor)).not.toContain(before.id);
  });

  it('never re-links a session to another user (409), and repeating the same user is fine', async () => {
    const { visitor } = await device();
    const first = await identify(visitor, 'first-user', userHash(widgetKey.identity_secret, 'first-user'));
    expect(first.status).toBe(200);
    const before = await dumpDatabase(context);
    const other = await identify(visitor, 'second-user', userHash(widgetKey.identity_secret, 'second-user'));
    expectError(other, 409, 'widget_identity_conflict');
    expect(await dumpDatabase(context)).toEqual(before);
    const same = await identify(visitor, 'first-user', userHash(widgetKey.identity_secret, 'first-user'));
    expect(same.body.widget_user.id).toBe(first.body.widget_user.id);
  });

  it('is for visitors only: an API key gets 403', async () => {
    const response = await admin.post('/api/v1/widget/identify', {
      user_id: 'x',
      user_hash: userHash(widgetKey.identity_secret, 'x'),
    });
    expectError(response, 403, 'insufficient_scope');
  });
});
