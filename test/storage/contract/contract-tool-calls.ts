import { describe, expect, it } from 'vitest';
import type { AuditedToolCall, NewToolCall, ToolCallApproval } from '../../../src/domain/runs.js';
import { at, messageInput, randomId, toolCallInput, type ContractFixture } from './fixtures.js';

/** Newest `start_time` first, then id descending: the order the audit list promises. */
function newestStartFirst(calls: readonly AuditedToolCall[]): string[] {
  return [...calls]
    .sort((left, right) =>
      left.start_time === right.start_time
        ? left.id < right.id
          ? 1
          : -1
        : left.start_time < right.start_time
          ? 1
          : -1,
    )
    .map((call) => call.id);
}

const approval: ToolCallApproval = {
  step: 1,
  requested_at: at(40),
  expires_at: at(100),
  requested_arguments: { amount: 25 },
  decision: null,
  reason: null,
  decided_at: null,
};

/**
 * One organisation with two agents: imported calls (completed, failed, running) on the first
 * agent's thread, and calls a run made on the second's (pending approval, rejected, two that
 * start at the same instant). Returns every call as the audit list should show it.
 */
async function seedAuditedCalls(fixture: ContractFixture) {
  const { store } = fixture;
  const { organizationId } = await fixture.newOrganization();
  const first = await fixture.newAgent(organizationId);
  const second = await fixture.newAgent(organizationId);
  const firstThread = await fixture.newThread({ organizationId, agentId: first.id });
  const secondThread = await fixture.newThread({ organizationId, agentId: second.id });

  const imported = messageInput({ organizationId, threadId: firstThread.id, role: 'assistant', created_at: at(10) });
  const importedCalls = [
    toolCallInput(imported, {
      position: 0,
      tool_name: 'lookup',
      result: { ok: 'é' },
      start_time: at(10),
      end_time: at(11),
    }),
    toolCallInput(imported, {
      position: 1,
      tool_name: 'search',
      error: 'timed out',
      start_time: at(20),
      end_time: at(21),
    }),
    toolCallInput(imported, {
      position: 2,
      tool_name: 'lookup',
      arguments: { q: 1 },
      start_time: at(30),
      end_time: null,
    }),
  ];
  await store.write((writers) => writers.messages.insert({ ...imported, tool_calls: importedCalls }));

  const reply = messageInput({ organizationId, threadId: secondThread.id, role: 'assistant', created_at: at(40) });
  await store.write((writers) => writers.messages.insert(reply));
  const runId = randomId();
  const runCall = (position: number, overrides: Partial<NewToolCall>): NewToolCall => ({
    id: randomId(),
    organization_id: organizationId,
    thread_id: secondThread.id,
    message_id: reply.id,
    position,
    tool_name: 'wire_money',
    arguments: { amount: 25 },
    start_time: at(40),
    run_id: runId,
    tool_call_id: `call_${position}`,
    status: 'pending_approval',
    approval,
    ...overrides,
  });
  const pending = runCall(0, {});
  const rejected = runCall(1, { start_time: at(50), approval: { ...approval, requested_at: at(50) } });
  const tied = [runCall(2, { tool_name: 'calculator', status: 'running', approval: null, start_time: at(60) })];
  tied.push(runCall(3, { tool_name: 'calculator', status: 'running', approval: null, start_time: at(60) }));
  const decided: ToolCallApproval = { ...rejected.approval!, decision: 'rejected', reason: 'no', decided_at: at(51) };
  await store.write(async (writers) => {
    for (const call of [pending, rejected, ...tied]) await writers.runMessages.startToolCall(call);
    await writers.runMessages.decideToolCall({
      organizationId,
      id: rejected.id,
      approval: decided,
      outcome: { status: 'rejected', error: 'Rejected: no', endTime: at(51) },
    });
    for (const call of tied) {
      await writers.runMessages.finishToolCall({
        organizationId,
        id: call.id,
        result: 4,
        error: null,
        endTime: at(61),
      });
    }
  });

  const importedView = (index: number, status: AuditedToolCall['status']): AuditedToolCall => {
    const { position: _position, ...call } = importedCalls[index]!;
    return {
      ...call,
      agent_id: first.id,
      thread_id: firstThread.id,
      message_id: imported.id,
      run_id: null,
      tool_call_id: null,
      status,
      approval: null,
    };
  };
  const runView = (call: NewToolCall, overrides: Partial<AuditedToolCall>): AuditedToolCall => ({
    id: call.id,
    agent_id: second.id,
    thread_id: secondThread.id,
    message_id: reply.id,
    run_id: runId,
    tool_call_id: call.tool_call_id,
    tool_name: call.tool_name,
    status: call.status,
    arguments: call.arguments,
    result: null,
    error: null,
    start_time: call.start_time,
    end_time: null,
    approval: call.approval,
    ...overrides,
  });
  const calls = {
    completed: importedView(0, 'completed'),
    failed: importedView(1, 'failed'),
    running: importedView(2, 'running'),
    pending: runView(pending, {}),
    rejected: runView(rejected, { status: 'rejected', error: 'Rejected: no', end_time: at(51), approval: decided }),
    tied: tied.map((call) => runView(call, { status: 'completed', result: 4, end_time: at(61) })),
  };
  const all = [calls.completed, calls.failed, calls.running, calls.pending, calls.rejected, ...calls.tied];
  return { organizationId, first, second, calls, all };
}

const page = { limit: 100, offset: 0 };

export function describeToolCallAuditCases(fixture: ContractFixture): void {
  describe('tool call audit list', () => {
    it('lists every call of the organisation with its agent and status, newest start first, ties by id', async () => {
      const { organizationId, all } = await seedAuditedCalls(fixture);
      const listed = await fixture.store.toolCalls.list({ organizationId, ...page });
      expect(listed.total).toBe(7);
      const byId = new Map(all.map((call) => [call.id, call]));
      expect(listed.toolCalls).toEqual(newestStartFirst(all).map((id) => byId.get(id)));
    });

    it('filters by agent, tool name, status and start time (both bounds inclusive), alone and combined', async () => {
      const { store } = fixture;
      const { organizationId, first, second, calls } = await seedAuditedCalls(fixture);
      const ids = async (filter: Parameters<typeof store.toolCalls.list>[0]) => {
        const listed = await store.toolCalls.list(filter);
        expect(listed.total).toBe(listed.toolCalls.length);
        return listed.toolCalls.map((call) => call.id);
      };
      const tiedIds = newestStartFirst(calls.tied);
      expect(await ids({ organizationId, ...page, agentId: first.id })).toEqual(
        [calls.running, calls.failed, calls.completed].map((call) => call.id),
      );
      expect(await ids({ organizationId, ...page, toolName: 'lookup' })).toEqual([
        calls.running.id,
        calls.completed.id,
      ]);
      expect(await ids({ organizationId, ...page, status: 'failed' })).toEqual([calls.failed.id]);
      expect(await ids({ organizationId, ...page, status: 'pending_approval' })).toEqual([calls.pending.id]);
      expect(await ids({ organizationId, ...page, status: 'rejected' })).toEqual([calls.rejected.id]);
      expect(await ids({ organizationId, ...page, status: 'completed' })).toEqual([...tiedIds, calls.completed.id]);
      expect(await ids({ organizationId, ...page, status: 'running' })).toEqual([calls.running.id]);
      expect(await ids({ organizationId, ...page, from: at(30), to: at(50) })).toEqual(
        [calls.rejected, calls.pending, calls.running].map((call) => call.id),
      );
      expect(await ids({ organizationId, ...page, from: at(60) })).toEqual(tiedIds);
      expect(await ids({ organizationId, ...page, to: at(10) })).toEqual([calls.completed.id]);
      expect(await ids({ organizationId, ...page, agentId: second.id, toolName: 'calculator', from: at(60) })).toEqual(
        tiedIds,
      );
      expect(await ids({ organizationId, ...page, agentId: first.id, status: 'completed', to: at(10) })).toEqual([
        calls.completed.id,
      ]);
      expect(await ids({ organizationId, ...page, agentId: second.id, status: 'failed' })).toEqual([]);
      expect(await ids({ organizationId, ...page, toolName: 'nothing' })).toEqual([]);
    });

    it('pages by limit and offset over a stable order, with the total of all matches', async () => {
      const { organizationId, all } = await seedAuditedCalls(fixture);
      const order = newestStartFirst(all);
      const pages = [];
      for (let offset = 0; offset < 8; offset += 3) {
        const listed = await fixture.store.toolCalls.list({ organizationId, limit: 3, offset });
        expect(listed.total).toBe(7);
        pages.push(listed.toolCalls.map((call) => call.id));
      }
      expect(pages).toEqual([order.slice(0, 3), order.slice(3, 6), order.slice(6)]);
    });

    it('keeps organisations apart: none of another organisation’s calls, nor through its agent id', async () => {
      const { store } = fixture;
      const owner = await seedAuditedCalls(fixture);
      const other = await fixture.newOrganization();
      const otherAgent = await fixture.newAgent(other.organizationId);
      expect(await store.toolCalls.list({ organizationId: other.organizationId, ...page })).toEqual({
        toolCalls: [],
        total: 0,
      });
      expect(
        await store.toolCalls.list({ organizationId: other.organizationId, agentId: owner.first.id, ...page }),
      ).toEqual({ toolCalls: [], total: 0 });
      expect(
        await store.toolCalls.list({ organizationId: owner.organizationId, agentId: otherAgent.id, ...page }),
      ).toEqual({ toolCalls: [], total: 0 });
      expect((await store.toolCalls.list({ organizationId: owner.organizationId, ...page })).total).toBe(7);
    });
  });
}
