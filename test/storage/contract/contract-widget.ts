import { describe, expect, it } from 'vitest';
import type { NewWidgetKey } from '../../../src/domain/widget.js';
import { at, randomId, type ContractFixture } from './fixtures.js';

function widgetKeyInput(input: { organizationId: string; agentId: string } & Partial<NewWidgetKey>): NewWidgetKey {
  const { organizationId, agentId, ...overrides } = input;
  return {
    id: randomId(),
    organization_id: organizationId,
    agent_id: agentId,
    name: 'contract widget',
    key_id: randomId().replaceAll('-', ''),
    key_hash: 'ab'.repeat(32),
    identity_secret: 'psb1.sealed',
    allowed_origins: ['https://shop.example', 'http://localhost:5173'],
    created_by_user_id: null,
    created_at: at(0),
    ...overrides,
  };
}

/** Widget keys, anonymous users, widget users and visitors' threads (migration 0010). */
export function describeWidgetCases(fixture: ContractFixture): void {
  describe('widget keys and visitors', () => {
    async function setUp() {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const key = widgetKeyInput({ organizationId, agentId: agent.id });
      const inserted = await store.write((writers) => writers.widgetKeys.insert(key));
      expect(inserted).not.toBeNull();
      const visitor = (id: string) =>
        store.write((writers) =>
          writers.visitors.insertAnonymousUser({
            id,
            organization_id: organizationId,
            widget_key_id: key.id,
            agent_id: agent.id,
            widget_user_id: null,
            ip_address: '127.0.0.1',
            created_at: at(1),
            last_seen_at: at(1),
          }),
        );
      return { organizationId, agentId: agent.id, key, visitor };
    }

    it('keep a key only for an agent of its own organisation, and match origins exactly', async () => {
      const { store } = fixture;
      const { organizationId, agentId, key } = await setUp();
      const other = await fixture.newOrganization();
      const refused = await store.write((writers) =>
        writers.widgetKeys.insert(widgetKeyInput({ organizationId: other.organizationId, agentId })),
      );
      expect(refused).toBeNull();
      expect(await store.widgetKeys.get({ organizationId: other.organizationId, id: key.id })).toBeNull();
      expect((await store.widgetKeys.findCredential(key.key_id))?.allowed_origins).toEqual(key.allowed_origins);
      const allowed = (origin: string, agent: string | null = agentId) =>
        store.widgetKeys.originAllowed({ origin, agentId: agent });
      expect(await allowed('https://shop.example')).toBe(true);
      expect(await allowed('http://localhost:5173', null)).toBe(true);
      for (const near of [
        'https://shop.exampl',
        'https://shop.example.evil',
        'https://%',
        'https://shop_example',
        '"',
      ]) {
        expect(await allowed(near), near).toBe(false);
      }
      expect(await allowed('https://shop.example', randomId())).toBe(false);
      await store.write((writers) => writers.widgetKeys.revoke({ organizationId, id: key.id, now: at(2) }));
      expect(await allowed('https://shop.example')).toBe(false);
      expect(await store.visitors.findAnonymousUser({ organizationId, id: randomId() })).toBeNull();
    });

    it('renew a visitor from its current generation only, one winner among concurrent renewals', async () => {
      const { store } = fixture;
      const { organizationId, key, visitor } = await setUp();
      const id = randomId();
      await visitor(id);
      const renew = (fromGeneration: number) =>
        store.write((writers) =>
          writers.visitors.renew({ organizationId, id, widgetKeyId: key.id, fromGeneration, now: at(3) }),
        );
      const outcomes = await Promise.all([renew(0), renew(0), renew(0)]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await renew(0)).toBe(false);
      expect(await renew(1)).toBe(true);
      expect(await store.visitors.findAnonymousUser({ organizationId, id })).toMatchObject({
        token_generation: 2,
        widget_key_revoked_at: null,
      });
      const other = await fixture.newOrganization();
      expect(await store.visitors.findAnonymousUser({ organizationId: other.organizationId, id })).toBeNull();
    });

    it('link visitors to one widget user per external id, never to a second one, and show the linked threads', async () => {
      const { store } = fixture;
      const { organizationId, agentId, visitor } = await setUp();
      const [laptop, phone] = [randomId(), randomId()];
      await visitor(laptop);
      await visitor(phone);
      const thread = await fixture.newThread({ organizationId, agentId, user_id: null, anon_user_id: laptop });
      const identify = (id: string, externalUserId: string, name: string | null) =>
        store.write(async (writers) => {
          const user = await writers.visitors.upsertWidgetUser({
            id: randomId(),
            organizationId,
            externalUserId,
            name,
            email: null,
            ipAddress: null,
            now: at(4),
          });
          return {
            user,
            linked: await writers.visitors.linkAnonymousUser({ organizationId, id, widgetUserId: user.id }),
          };
        });
      const first = await identify(laptop, 'customer-1', 'Ada');
      const second = await identify(phone, 'customer-1', null);
      expect(second.user.id).toBe(first.user.id);
      expect(second.user.user_name).toBe('Ada');
      expect([first.linked, second.linked]).toEqual([true, true]);
      const elsewhere = await identify(laptop, 'customer-2', 'Bob');
      expect(elsewhere.linked).toBe(false);
      const phoneView = { anonymousUserId: phone, widgetUserId: first.user.id };
      expect(
        (await store.threads.list({ organizationId, agentId, visitor: phoneView, limit: 10, offset: 0 })).map(
          (t) => t.id,
        ),
      ).toEqual([thread.id]);
      expect(await store.threads.get({ organizationId, agentId, id: thread.id, visitor: phoneView })).not.toBeNull();
      const stranger = { anonymousUserId: randomId(), widgetUserId: null };
      expect(await store.threads.get({ organizationId, agentId, id: thread.id, visitor: stranger })).toBeNull();
      expect(await store.threads.list({ organizationId, agentId, visitor: stranger, limit: 10, offset: 0 })).toEqual(
        [],
      );
    });

    it('list an agent’s web threads only: visitors’ threads of the organisation, with their web fields', async () => {
      const { store } = fixture;
      const { organizationId, agentId, visitor } = await setUp();
      const anonymous = randomId();
      await visitor(anonymous);
      const web = await fixture.newThread({
        organizationId,
        agentId,
        user_id: null,
        anon_user_id: anonymous,
        created_at: at(5),
      });
      const ticketed = await fixture.newThread({
        organizationId,
        agentId,
        user_id: null,
        anon_user_id: anonymous,
        created_at: at(6),
      });
      const staff = await fixture.newThread({ organizationId, agentId, created_at: at(7) });
      await store.write((writers) =>
        writers.threads.update({
          organizationId,
          agentId,
          id: ticketed.id,
          changes: { ticket_id: 'TCK-1', connected_to_platform: true },
          now: at(8),
        }),
      );
      const page = { order: 'desc' as const, cursor: null, limit: 10, offset: 0 };
      const listed = await store.webThreads.list({ organizationId, agentId, ...page });
      expect(listed?.map((thread) => thread.id)).toEqual([ticketed.id, web.id]);
      expect(listed?.[0]).toMatchObject({
        ticket_id: 'TCK-1',
        chat_history_parent_comment_id: null,
        connected_to_platform: true,
        message_count: 0,
        widget_user: null,
      });
      expect(listed?.[1]).toMatchObject({ ticket_id: null, connected_to_platform: false });
      const chatOnly = await store.webThreads.list({ organizationId, agentId, ticket: 'chat_only', ...page });
      expect(chatOnly?.map((thread) => thread.id)).toEqual([web.id]);
      const older = await store.webThreads.list({
        organizationId,
        agentId,
        ...page,
        cursor: { direction: 'after', id: ticketed.id },
      });
      expect(older?.map((thread) => thread.id)).toEqual([web.id]);
      expect(
        await store.webThreads.list({ organizationId, agentId, ...page, cursor: { direction: 'after', id: staff.id } }),
      ).toBeNull();
      const other = await fixture.newOrganization();
      expect(await store.webThreads.list({ organizationId: other.organizationId, agentId, ...page })).toEqual([]);
      expect(
        await store.webThreads.list({
          organizationId: other.organizationId,
          agentId,
          ...page,
          cursor: { direction: 'after', id: web.id },
        }),
      ).toBeNull();
    });
  });
}
