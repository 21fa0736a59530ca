import { describe, expect, it } from 'vitest';
import { MAX_TOOLS_PER_AGENT, type StoredAgentTool } from '../../../src/domain/agent-tools.js';
import { AWKWARD_JSON } from './contract-agents.js';
import { at, countRows, randomId, type ContractFixture } from './fixtures.js';

function toolInput(input: { organizationId: string; agentId: string } & Partial<StoredAgentTool>): StoredAgentTool {
  const { organizationId, agentId, ...overrides } = input;
  const createdAt = overrides.created_at ?? at(0);
  return {
    id: randomId(),
    organization_id: organizationId,
    agent_id: agentId,
    tool_name: `tool_${randomId().slice(0, 8)}`,
    tool_type: 'built_in',
    configuration: {},
    is_enabled: true,
    mcp_server_id: null,
    external_tool_connection_id: null,
    created_at: createdAt,
    updated_at: createdAt,
    ...overrides,
  };
}

/** Oldest first, then id ascending: the order the agent-tools list promises. */
function inAddedOrder(tools: readonly StoredAgentTool[]): string[] {
  return [...tools]
    .sort((left, right) =>
      left.created_at === right.created_at
        ? left.id < right.id
          ? -1
          : 1
        : left.created_at < right.created_at
          ? -1
          : 1,
    )
    .map((tool) => tool.id);
}

export function describeToolCases(fixture: ContractFixture): void {
  describe('agent tools', () => {
    it('inserts, gets, updates and deletes a tool, round-tripping its configuration exactly', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const input = toolInput({
        organizationId,
        agentId: agent.id,
        tool_name: 'lookup_order',
        tool_type: 'external_tool',
        configuration: AWKWARD_JSON,
        external_tool_connection_id: randomId(),
        created_at: at(1),
      });
      const inserted = await store.write((writers) => writers.agentTools.insert(input));
      expect(inserted).toEqual({ kind: 'created', tool: input });
      const key = { organizationId, agentId: agent.id, id: input.id };
      expect(await store.agentTools.get(key)).toEqual(input);

      const updated = await store.write((writers) =>
        writers.agentTools.update({
          ...key,
          changes: { tool_name: 'find_order', configuration: null, is_enabled: false },
          now: at(2),
        }),
      );
      const expected = { ...input, tool_name: 'find_order', configuration: null, is_enabled: false, updated_at: at(2) };
      expect(updated).toEqual({ kind: 'updated', tool: expected });
      expect(await store.agentTools.get(key)).toEqual(expected);
      // Renaming a tool to its own name is no conflict.
      const same = await store.write((writers) =>
        writers.agentTools.update({ ...key, changes: { tool_name: 'find_order' }, now: at(3) }),
      );
      expect(same).toEqual({ kind: 'updated', tool: { ...expected, updated_at: at(3) } });

      expect(await store.write((writers) => writers.agentTools.delete(key))).toBe(true);
      expect(await store.agentTools.get(key)).toBeNull();
      expect(await store.write((writers) => writers.agentTools.delete(key))).toBe(false);
      expect(
        await store.write((writers) =>
          writers.agentTools.update({ ...key, changes: { is_enabled: true }, now: at(4) }),
        ),
      ).toEqual({ kind: 'not_found' });
    });

    it('keeps tool names unique per agent, also between concurrent writers, and not across agents', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const other = await fixture.newAgent(organizationId);
      const first = toolInput({ organizationId, agentId: agent.id, tool_name: 'calculator' });
      await store.write((writers) => writers.agentTools.insert(first));
      const duplicate = toolInput({ organizationId, agentId: agent.id, tool_name: 'calculator' });
      expect(await store.write((writers) => writers.agentTools.insert(duplicate))).toEqual({ kind: 'name_taken' });
      const elsewhere = toolInput({ organizationId, agentId: other.id, tool_name: 'calculator' });
      expect((await store.write((writers) => writers.agentTools.insert(elsewhere))).kind).toBe('created');

      const racers = Array.from({ length: 6 }, () =>
        toolInput({ organizationId, agentId: agent.id, tool_name: 'raced' }),
      );
      const results = await Promise.all(
        racers.map((tool) => store.write((writers) => writers.agentTools.insert(tool))),
      );
      expect(results.filter((result) => result.kind === 'created')).toHaveLength(1);
      expect(results.filter((result) => result.kind === 'name_taken')).toHaveLength(5);

      const second = toolInput({ organizationId, agentId: agent.id, tool_name: 'current_time' });
      await store.write((writers) => writers.agentTools.insert(second));
      const rename = await store.write((writers) =>
        writers.agentTools.update({
          organizationId,
          agentId: agent.id,
          id: second.id,
          changes: { tool_name: 'calculator' },
          now: at(5),
        }),
      );
      expect(rename).toEqual({ kind: 'name_taken' });
      expect(await store.agentTools.get({ organizationId, agentId: agent.id, id: second.id })).toEqual(second);
      expect(await countRows(fixture.inspector, 'agent_tools', 'agent_id', agent.id)).toBe(3);
    });

    it('lists in the order added (ties by id), filtered by type and by enabled', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const tools: StoredAgentTool[] = [];
      for (const [index, seconds] of [2, 1, 2, 1, 3, 2].entries()) {
        const tool = toolInput({
          organizationId,
          agentId: agent.id,
          tool_type: index % 2 === 0 ? 'built_in' : 'external_tool',
          is_enabled: index % 3 !== 0,
          created_at: at(seconds),
        });
        await store.write((writers) => writers.agentTools.insert(tool));
        tools.push(tool);
      }
      const list = (filters: { toolType?: 'built_in' | 'external_tool'; isEnabled?: boolean } = {}) =>
        store.agentTools.list({ organizationId, agentId: agent.id, ...filters });
      expect(await list()).toEqual(inAddedOrder(tools).map((id) => tools.find((tool) => tool.id === id)));
      expect((await list({ toolType: 'external_tool' })).map((tool) => tool.id)).toEqual(
        inAddedOrder(tools.filter((tool) => tool.tool_type === 'external_tool')),
      );
      expect((await list({ isEnabled: false })).map((tool) => tool.id)).toEqual(
        inAddedOrder(tools.filter((tool) => !tool.is_enabled)),
      );
      expect((await list({ toolType: 'built_in', isEnabled: true })).map((tool) => tool.id)).toEqual(
        inAddedOrder(tools.filter((tool) => tool.tool_type === 'built_in' && tool.is_enabled)),
      );
      expect(await store.agentTools.list({ organizationId, agentId: randomId() })).toEqual([]);
    });

    it(`refuses a tool beyond ${MAX_TOOLS_PER_AGENT} per agent`, async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      await store.write(async (writers) => {
        for (let index = 0; index < MAX_TOOLS_PER_AGENT; index += 1) {
          const result = await writers.agentTools.insert(
            toolInput({ organizationId, agentId: agent.id, tool_name: `tool_${index}` }),
          );
          if (result.kind !== 'created') throw new Error(`tool ${index}: ${result.kind}`);
        }
      });
      const extra = toolInput({ organizationId, agentId: agent.id, tool_name: 'one_too_many' });
      expect(await store.write((writers) => writers.agentTools.insert(extra))).toEqual({ kind: 'too_many_tools' });
      expect(await store.agentTools.list({ organizationId, agentId: agent.id })).toHaveLength(MAX_TOOLS_PER_AGENT);
    });

    it('keeps organisations apart: another organisation can neither add to, read, change nor delete an agent’s tools', async () => {
      const { store } = fixture;
      const owner = await fixture.newOrganization();
      const intruder = await fixture.newOrganization();
      const agent = await fixture.newAgent(owner.organizationId);
      const tool = toolInput({
        organizationId: owner.organizationId,
        agentId: agent.id,
        tool_name: 'private_tool',
        configuration: { secret: 'owner only' },
      });
      await store.write((writers) => writers.agentTools.insert(tool));
      const before = await store.agentTools.list({ organizationId: owner.organizationId, agentId: agent.id });

      const planted = toolInput({ organizationId: intruder.organizationId, agentId: agent.id, tool_name: 'planted' });
      expect(await store.write((writers) => writers.agentTools.insert(planted))).toEqual({ kind: 'agent_not_found' });
      const foreignKey = { organizationId: intruder.organizationId, agentId: agent.id, id: tool.id };
      expect(await store.agentTools.get(foreignKey)).toBeNull();
      expect(await store.agentTools.list({ organizationId: intruder.organizationId, agentId: agent.id })).toEqual([]);
      for (const changes of [{ is_enabled: false }, { tool_name: 'private_tool' }, { tool_name: 'renamed' }]) {
        expect(
          await store.write((writers) => writers.agentTools.update({ ...foreignKey, changes, now: at(9) })),
        ).toEqual({ kind: 'not_found' });
      }
      expect(await store.write((writers) => writers.agentTools.delete(foreignKey))).toBe(false);

      expect(await store.agentTools.list({ organizationId: owner.organizationId, agentId: agent.id })).toEqual(before);
      expect(await countRows(fixture.inspector, 'agent_tools', 'agent_id', agent.id)).toBe(1);
    });

    it('deletes an agent’s tools with the agent', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const kept = await fixture.newAgent(organizationId);
      for (const agentId of [agent.id, agent.id, kept.id]) {
        await store.write((writers) => writers.agentTools.insert(toolInput({ organizationId, agentId })));
      }
      expect(await store.write((writers) => writers.agents.delete({ organizationId, id: agent.id }))).toBe(true);
      expect(await countRows(fixture.inspector, 'agent_tools', 'agent_id', agent.id)).toBe(0);
      expect(await countRows(fixture.inspector, 'agent_tools', 'agent_id', kept.id)).toBe(1);
    });
  });
}
