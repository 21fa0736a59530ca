import { describe, expect, it } from 'vitest';
import type { ChatThread, NewThread } from '../../../src/domain/models.js';
import {
  at,
  countRows,
  feedbackInput,
  messageInput,
  newestFirst,
  randomId,
  threadInput,
  toolCallInput,
  type ContractFixture,
} from './fixtures.js';

/** A stored thread as the readers return it: the input, with no messages attached. */
function stored(thread: NewThread): ChatThread {
  return { ...thread, messages: [] };
}

/** Seeds `count` threads whose timestamps repeat, so ties are common. */
async function seedThreads(
  fixture: ContractFixture,
  input: { organizationId: string; agentId: string; count: number },
): Promise<NewThread[]> {
  const threads = Array.from({ length: input.count }, (_, index) => {
    const seconds = (index * 7) % 5; // 0, 2, 4, 1, 3, 0, … : five timestamps, in mixed order
    return threadInput({ organizationId: input.organizationId, agentId: input.agentId, created_at: at(seconds) });
  });
  const inserted = await fixture.store.write(async (writers) => {
    const results = [];
    for (const thread of threads) results.push(await writers.threads.insert(thread));
    return results;
  });
  expect(inserted.every(Boolean)).toBe(true);
  return threads;
}

/** A thread with two messages, two tool calls and one feedback; returns the thread's id. */
async function seedConversation(
  fixture: ContractFixture,
  input: { organizationId: string; userId: string; agentId: string },
): Promise<string> {
  const thread = await fixture.newThread(input);
  const question = messageInput({ organizationId: input.organizationId, threadId: thread.id, created_at: at(1) });
  const answer = messageInput({
    organizationId: input.organizationId,
    threadId: thread.id,
    role: 'assistant',
    created_at: at(2),
  });
  await fixture.store.write(async (writers) => {
    await writers.messages.insert(question);
    await writers.messages.insert({
      ...answer,
      tool_calls: [toolCallInput(answer, { position: 0 }), toolCallInput(answer, { position: 1 })],
    });
    await writers.messages.insertFeedback(
      feedbackInput({
        organizationId: input.organizationId,
        threadId: thread.id,
        userId: input.userId,
        human_message_id: question.id,
        ai_message_id: answer.id,
      }),
    );
  });
  return thread.id;
}

async function countConversation(fixture: ContractFixture, threadId: string) {
  const { inspector } = fixture;
  return {
    messages: await countRows(inspector, 'chat_messages', 'thread_id', threadId),
    toolCalls: await countRows(inspector, 'tool_calls', 'thread_id', threadId),
    feedback: await countRows(inspector, 'message_feedback', 'thread_id', threadId),
  };
}

export function describeThreadCases(fixture: ContractFixture): void {
  describe('threads', () => {
    it('inserts a thread only when its agent exists in the same organisation', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const thread = threadInput({ organizationId, agentId: agent.id, user_id: 'u-1', metadata: { channel: 'web' } });
      expect(await store.write((writers) => writers.threads.insert(thread))).toEqual(stored(thread));
      expect(await store.threads.get({ organizationId, agentId: agent.id, id: thread.id })).toEqual(stored(thread));

      const orphan = threadInput({ organizationId, agentId: randomId() });
      expect(await store.write((writers) => writers.threads.insert(orphan))).toBeNull();
      expect(await store.threads.get({ organizationId, agentId: orphan.agent_id, id: orphan.id })).toBeNull();
      // The same id again is a conflict, not a silent second row.
      await expect(store.write((writers) => writers.threads.insert(thread))).rejects.toThrow();
      const listed = await store.threads.list({ organizationId, agentId: agent.id, limit: 10, offset: 0 });
      expect(listed).toEqual([stored(thread)]);
    });

    it('updates title and metadata, scoped by agent', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const otherAgent = await fixture.newAgent(organizationId);
      const thread = await fixture.newThread({ organizationId, agentId: agent.id });
      const key = { organizationId, agentId: agent.id, id: thread.id };
      const updated = await store.write((writers) =>
        writers.threads.update({ ...key, changes: { title: null, metadata: { ключ: ['🧵'] } }, now: at(9) }),
      );
      expect(updated).toEqual({
        ...thread,
        title: null,
        metadata: { ключ: ['🧵'] },
        updated_at: at(9),
      });
      expect(await store.threads.get(key)).toEqual(updated);
      const wrongAgent = { ...key, agentId: otherAgent.id };
      expect(await store.threads.get(wrongAgent)).toBeNull();
      expect(
        await store.write((writers) => writers.threads.update({ ...wrongAgent, changes: { title: 'x' }, now: at(10) })),
      ).toBeNull();
      expect(await store.write((writers) => writers.threads.delete(wrongAgent))).toBe(false);
      expect(await store.threads.get(key)).toEqual(updated);
    });

    it('lists newest first, breaking ties in created_at by id descending', async () => {
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const threads = await seedThreads(fixture, { organizationId, agentId: agent.id, count: 12 });
      const listed = await fixture.store.threads.list({ organizationId, agentId: agent.id, limit: 100, offset: 0 });
      expect(listed.map((thread) => thread.id)).toEqual(newestFirst(threads));
      expect(listed).toEqual(newestFirst(threads).map((id) => stored(threads.find((thread) => thread.id === id)!)));
    });

    it('pages without overlap or gaps, and only through the agent’s own threads', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const neighbour = await fixture.newAgent(organizationId);
      const threads = await seedThreads(fixture, { organizationId, agentId: agent.id, count: 23 });
      await seedThreads(fixture, { organizationId, agentId: neighbour.id, count: 4 });
      const seen: string[] = [];
      for (let offset = 0; ; offset += 5) {
        const page = await store.threads.list({ organizationId, agentId: agent.id, limit: 5, offset });
        if (page.length === 0) break;
        expect(page.length).toBe(Math.min(5, 23 - offset));
        seen.push(...page.map((thread) => thread.id));
      }
      expect(new Set(seen).size).toBe(23);
      expect(seen).toEqual(newestFirst(threads));
    });

    it('deleting a thread removes its messages, tool calls and feedback, and nothing else', async () => {
      const { store } = fixture;
      const { organizationId, userId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const doomed = await seedConversation(fixture, { organizationId, userId, agentId: agent.id });
      const kept = await seedConversation(fixture, { organizationId, userId, agentId: agent.id });
      const full = { messages: 2, toolCalls: 2, feedback: 1 };
      expect(await countConversation(fixture, doomed)).toEqual(full);

      const key = { organizationId, agentId: agent.id, id: doomed };
      expect(await store.write((writers) => writers.threads.delete(key))).toBe(true);
      expect(await store.threads.get(key)).toBeNull();
      expect(await countConversation(fixture, doomed)).toEqual({ messages: 0, toolCalls: 0, feedback: 0 });
      expect(await countConversation(fixture, kept)).toEqual(full);
      expect(await store.write((writers) => writers.threads.delete(key))).toBe(false);
    });

    it('deleting an agent removes its threads and everything in them', async () => {
      const { store, inspector } = fixture;
      const { organizationId, userId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const neighbour = await fixture.newAgent(organizationId);
      const threads = [
        await seedConversation(fixture, { organizationId, userId, agentId: agent.id }),
        await seedConversation(fixture, { organizationId, userId, agentId: agent.id }),
      ];
      const kept = await seedConversation(fixture, { organizationId, userId, agentId: neighbour.id });

      expect(await store.write((writers) => writers.agents.delete({ organizationId, id: agent.id }))).toBe(true);
      expect(await countRows(inspector, 'chat_threads', 'agent_id', agent.id)).toBe(0);
      for (const threadId of threads) {
        expect(await countConversation(fixture, threadId)).toEqual({ messages: 0, toolCalls: 0, feedback: 0 });
      }
      expect(await countRows(inspector, 'chat_threads', 'agent_id', neighbour.id)).toBe(1);
      expect(await countConversation(fixture, kept)).toEqual({ messages: 2, toolCalls: 2, feedback: 1 });
    });

    it('deleteAllForAgent removes that agent’s threads only and counts them', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const neighbour = await fixture.newAgent(organizationId);
      await seedThreads(fixture, { organizationId, agentId: agent.id, count: 3 });
      const kept = await seedThreads(fixture, { organizationId, agentId: neighbour.id, count: 2 });
      const deleteAll = () =>
        store.write((writers) => writers.threads.deleteAllForAgent({ organizationId, agentId: agent.id }));
      expect(await deleteAll()).toBe(3);
      expect(await deleteAll()).toBe(0);
      expect(await store.threads.list({ organizationId, agentId: agent.id, limit: 10, offset: 0 })).toEqual([]);
      expect(
        (await store.threads.list({ organizationId, agentId: neighbour.id, limit: 10, offset: 0 })).map(
          (thread) => thread.id,
        ),
      ).toEqual(newestFirst(kept));
      expect(await store.agents.get({ organizationId, id: agent.id })).not.toBeNull();
    });
  });
}
