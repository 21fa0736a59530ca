import { describe, expect, it } from 'vitest';
import type { Agent, JsonObject } from '../../../src/domain/models.js';
import { agentInput, at, newestFirst, randomId, type ContractFixture } from './fixtures.js';

/**
 * JSON that text columns must hand back exactly: every kind of value, deep nesting, and strings
 * from scripts and ranges that break naive encodings. No U+0000: PostgreSQL text cannot hold it.
 */
export const AWKWARD_JSON: JsonObject = {
  emoji: '👩🏽‍💻 🎉 🇳🇿 🏳️‍🌈',
  rtl: 'مرحبا بالعالم — שלום עולם',
  cjk: '漢字 かな カナ 한국어 𠜎𠜱',
  combining: 'e\u0301 Å n\u0303',
  control: '\u0001\u0007\b\t\n\u000b\f\r\u001b\u001f\u007f\u0085\u2028\u2029',
  quotes: `"double" 'single' \\back\\slash /slash/`,
  loneSurrogate: '\ud800',
  numbers: [0, 1, -1, 1e21, -0.5, 0.1, 1e-7, 9007199254740991, -9007199254740991, 3.141592653589793],
  booleans: [true, false],
  nothing: null,
  empty: { object: {}, array: [], string: '' },
  nested: { list: [[1, [2, [3, { deep: [{ deeper: ['🧭'] }] }]]], { 'ключ with spaces': 'значение' }] },
  '': 'empty key',
  'key.with.dots': { 'key/with/slashes': true },
};

function deeplyNested(depth: number): JsonObject {
  let value: JsonObject = { bottom: 'reached' };
  for (let level = 0; level < depth; level += 1) value = { level, child: [value] };
  return value;
}

export function describeAgentCases(fixture: ContractFixture): void {
  describe('agents', () => {
    it('inserts, gets, updates and deletes an agent', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const input = agentInput(organizationId, {
        description: 'Answers refunds',
        configuration: { model: 'demo' },
        metadata: { team: 'support' },
        team_id: ['team-1', 'team-2'],
        created_at: at(1),
        updated_at: at(1),
      });
      const inserted = await store.write((writers) => writers.agents.insert(input));
      expect(inserted).toEqual({
        id: input.id,
        name: 'Contract agent',
        description: 'Answers refunds',
        avatar_url: null,
        configuration: { model: 'demo' },
        template_id: input.template_id,
        organization_id: organizationId,
        status: 'active',
        metadata: { team: 'support' },
        files: [],
        team_id: ['team-1', 'team-2'],
        completed_flows_count: 0,
        pending_flows_count: 0,
        bot_sub: input.bot_sub,
        created_at: at(1),
        updated_at: at(1),
      });
      const key = { organizationId, id: input.id };
      expect(await store.agents.get(key)).toEqual(inserted);

      const updated = await store.write((writers) =>
        writers.agents.update({
          ...key,
          changes: {
            name: 'Renamed',
            status: 'draft',
            description: null,
            team_id: null,
            avatar_url: 'https://x/a.png',
          },
          now: at(2),
        }),
      );
      expect(updated).toEqual({
        ...inserted,
        name: 'Renamed',
        status: 'draft',
        description: null,
        team_id: null,
        avatar_url: 'https://x/a.png',
        updated_at: at(2),
      });
      expect(await store.agents.get(key)).toEqual(updated);

      // No changes still marks the agent as touched, and leaves everything else alone.
      const touched = await store.write((writers) => writers.agents.update({ ...key, changes: {}, now: at(3) }));
      expect(touched).toEqual({ ...updated, updated_at: at(3) });

      expect(await store.write((writers) => writers.agents.delete(key))).toBe(true);
      expect(await store.agents.get(key)).toBeNull();
      expect(await store.write((writers) => writers.agents.delete(key))).toBe(false);
      expect(
        await store.write((writers) => writers.agents.update({ ...key, changes: { name: 'x' }, now: at(4) })),
      ).toBeNull();
      expect(await store.agents.get({ organizationId, id: randomId() })).toBeNull();
    });

    it('lists newest first, breaking ties in created_at by id descending', async () => {
      const { organizationId } = await fixture.newOrganization();
      const agents: Agent[] = [];
      // Insertion order differs from both timestamp and id order.
      for (const seconds of [2, 1, 3, 2, 1, 2, 3, 1, 2, 3, 2, 1]) {
        agents.push(await fixture.newAgent(organizationId, { created_at: at(seconds), updated_at: at(seconds) }));
      }
      const listed = await fixture.store.agents.list({ organizationId, limit: 100, offset: 0 });
      expect(listed.map((agent) => agent.id)).toEqual(newestFirst(agents));
      expect(listed).toEqual(newestFirst(agents).map((id) => agents.find((agent) => agent.id === id)));
    });

    it('filters by status and pages with limit and offset', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const statuses = ['active', 'draft', 'archived'];
      const agents: Agent[] = [];
      for (let index = 0; index < 15; index += 1) {
        const seconds = Math.floor(index / 4); // groups of four share a timestamp
        agents.push(
          await fixture.newAgent(organizationId, {
            status: statuses[index % 3]!,
            created_at: at(seconds),
            updated_at: at(seconds),
          }),
        );
      }
      const everything = newestFirst(agents);
      const drafts = newestFirst(agents.filter((agent) => agent.status === 'draft'));
      expect(drafts).toHaveLength(5);
      const listDrafts = await store.agents.list({ organizationId, status: 'draft', limit: 100, offset: 0 });
      expect(listDrafts.map((agent) => agent.id)).toEqual(drafts);
      expect(await store.agents.list({ organizationId, status: 'inactive', limit: 100, offset: 0 })).toEqual([]);

      const paged: string[] = [];
      for (let offset = 0; offset < 20; offset += 4) {
        const page = await store.agents.list({ organizationId, limit: 4, offset });
        expect(page.length).toBe(Math.max(0, Math.min(4, 15 - offset)));
        paged.push(...page.map((agent) => agent.id));
      }
      expect(paged).toEqual(everything);
      const draftPage = await store.agents.list({ organizationId, status: 'draft', limit: 2, offset: 2 });
      expect(draftPage.map((agent) => agent.id)).toEqual(drafts.slice(2, 4));
      expect(await store.agents.list({ organizationId, limit: 10, offset: 15 })).toEqual([]);
      expect(await store.agents.list({ organizationId, limit: 0, offset: 0 })).toEqual([]);
    });

    it('round-trips configuration, metadata and names with unicode, control characters and awkward numbers', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const name = 'وكيل 代理 🤖 agent\ttab';
      const nested = deeplyNested(64);
      const inserted = await fixture.newAgent(organizationId, {
        name,
        description: AWKWARD_JSON.control as string,
        configuration: AWKWARD_JSON,
        metadata: nested,
      });
      const key = { organizationId, id: inserted.id };
      const stored = await store.agents.get(key);
      expect(stored?.configuration).toEqual(AWKWARD_JSON);
      expect(stored?.metadata).toEqual(nested);
      expect(stored?.name).toBe(name);
      expect(stored?.description).toBe(AWKWARD_JSON.control);
      const numbers = stored?.configuration.numbers as number[];
      expect(numbers[3]).toBe(1e21);
      expect(numbers[4]).toBe(-0.5);

      // Swapped through the update path, the values must come back just as exactly.
      const updated = await store.write((writers) =>
        writers.agents.update({ ...key, changes: { configuration: nested, metadata: AWKWARD_JSON }, now: at(5) }),
      );
      expect(updated?.configuration).toEqual(nested);
      expect(updated?.metadata).toEqual(AWKWARD_JSON);
      const reread = await store.agents.get(key);
      expect(reread).toEqual(updated);
      const listed = await store.agents.list({ organizationId, limit: 1, offset: 0 });
      expect(listed[0]?.metadata).toEqual(AWKWARD_JSON);
    });
  });
}
