import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/storage/store.js';
import {
  at,
  countRows,
  feedbackInput,
  messageInput,
  randomId,
  threadInput,
  toolCallInput,
  type ContractFixture,
  type ContractOrganization,
} from './fixtures.js';

interface Owned extends ContractOrganization {
  keyId: string;
  agentId: string;
  threadId: string;
  idempotencyKey: string;
}

/** Everything organisation A owns, as A reads it: compared before and after B's attempts. */
async function snapshot(store: Store, owned: Owned) {
  const { organizationId, agentId, threadId } = owned;
  return {
    user: await store.organizations.getUser({ organizationId, id: owned.userId }),
    key: await store.apiKeys.get({ organizationId, id: owned.keyId }),
    agent: await store.agents.get({ organizationId, id: agentId }),
    agents: await store.agents.list({ organizationId, limit: 10, offset: 0 }),
    thread: await store.threads.get({ organizationId, agentId, id: threadId }),
    threads: await store.threads.list({ organizationId, agentId, limit: 10, offset: 0 }),
    messages: await store.messages.listForThread({ organizationId, threadId, limit: 10, offset: 0 }),
    replay: await store.idempotency.find({ organizationId, key: owned.idempotencyKey, now: at(0) }),
  };
}

/** Organisation A with one of everything: user, key, agent, thread, message with tool call and feedback. */
async function seedOwner(fixture: ContractFixture): Promise<Owned> {
  const organization = await fixture.newOrganization();
  const { organizationId, userId } = organization;
  const agent = await fixture.newAgent(organizationId, { configuration: { secret: 'A only' } });
  const thread = await fixture.newThread({ organizationId, agentId: agent.id, title: 'A thread' });
  const keyId = randomId();
  const idempotencyKey = `create-agent-${randomId()}`;
  await fixture.store.write(async (writers) => {
    await writers.apiKeys.insert({
      id: keyId,
      organization_id: organizationId,
      user_id: userId,
      name: 'A key',
      key_hash: 'hash',
      last_four: 'wxyz',
      scopes: ['read', 'write', 'admin'],
      created_at: at(0),
      expires_at: null,
    });
    const message = messageInput({ organizationId, threadId: thread.id, content: 'A message' });
    await writers.messages.insert({ ...message, tool_calls: [toolCallInput(message, { result: { ok: true } })] });
    await writers.messages.insertFeedback(
      feedbackInput({ organizationId, threadId: thread.id, userId, human_message_id: message.id }),
    );
    await writers.idempotency.record({
      organization_id: organizationId,
      key: idempotencyKey,
      fingerprint: 'fingerprint',
      status_code: 200,
      body: { id: 'A' },
      created_at: at(0),
      expires_at: at(3600),
    });
  });
  return { ...organization, keyId, agentId: agent.id, threadId: thread.id, idempotencyKey };
}

export function describeIsolationCases(fixture: ContractFixture): void {
  describe('cross-organisation isolation', () => {
    let owner: Owned;
    let intruder: ContractOrganization;
    beforeAll(async () => {
      owner = await seedOwner(fixture);
      intruder = await fixture.newOrganization();
    });

    it('readers given another organisation’s id find nothing', async () => {
      const { store } = fixture;
      const organizationId = intruder.organizationId;
      const { agentId, threadId } = owner;
      expect(await store.organizations.getUser({ organizationId, id: owner.userId })).toBeNull();
      // Both organisations have a user of that name; each sees its own.
      expect(await store.organizations.findUser(organizationId, 'contract-user')).toMatchObject({
        id: intruder.userId,
        organization_id: organizationId,
      });
      expect(await store.apiKeys.get({ organizationId, id: owner.keyId })).toBeNull();
      expect((await store.apiKeys.list({ organizationId })).map((key) => key.id)).not.toContain(owner.keyId);
      expect(await store.agents.get({ organizationId, id: agentId })).toBeNull();
      expect(await store.agents.list({ organizationId, limit: 10, offset: 0 })).toEqual([]);
      expect(await store.agents.list({ organizationId, status: 'active', limit: 10, offset: 0 })).toEqual([]);
      expect(await store.threads.get({ organizationId, agentId, id: threadId })).toBeNull();
      expect(await store.threads.list({ organizationId, agentId, limit: 10, offset: 0 })).toEqual([]);
      expect(await store.messages.listForThread({ organizationId, threadId, limit: 10, offset: 0 })).toEqual([]);
      expect(await store.messages.listForThreads({ organizationId, threadIds: [threadId] })).toEqual(
        new Map([[threadId, []]]),
      );
      expect(await store.idempotency.find({ organizationId, key: owner.idempotencyKey, now: at(0) })).toBeNull();
    });

    it('writers given another organisation’s id change nothing', async () => {
      const { store, inspector } = fixture;
      const before = await snapshot(store, owner);
      expect(before.messages[0]?.tool_calls).toHaveLength(1);
      expect(before.messages[0]?.feedback).not.toBeNull();
      const organizationId = intruder.organizationId;
      const { agentId, threadId } = owner;
      const threadKey = { organizationId, agentId, id: threadId };

      const outcomes = await store.write(async (writers) => ({
        agentUpdate: await writers.agents.update({
          organizationId,
          id: agentId,
          changes: { name: 'stolen', configuration: {}, status: 'archived' },
          now: at(99),
        }),
        threadUpdate: await writers.threads.update({ ...threadKey, changes: { title: 'stolen' }, now: at(99) }),
        threadInsert: await writers.threads.insert(threadInput({ organizationId, agentId })),
        keyRevoke: await writers.apiKeys.revoke({ organizationId, id: owner.keyId, now: at(99) }),
        threadDelete: await writers.threads.delete(threadKey),
        threadsDeleted: await writers.threads.deleteAllForAgent({ organizationId, agentId }),
        agentDelete: await writers.agents.delete({ organizationId, id: agentId }),
      }));
      expect(outcomes).toEqual({
        agentUpdate: null,
        threadUpdate: null,
        threadInsert: null,
        keyRevoke: null,
        threadDelete: false,
        threadsDeleted: 0,
        agentDelete: false,
      });
      // A live key in B's name is B's own, and does not disturb A's record of the same key.
      const claimed = await store.write((writers) =>
        writers.idempotency.record({
          organization_id: organizationId,
          key: owner.idempotencyKey,
          fingerprint: 'other',
          status_code: 200,
          body: { id: 'B' },
          created_at: at(0),
          expires_at: at(3600),
        }),
      );
      expect(claimed).toBe(true);

      expect(await snapshot(store, owner)).toEqual(before);
      expect(await countRows(inspector, 'chat_threads', 'agent_id', agentId)).toBe(1);
      expect(await store.agents.list({ organizationId, limit: 10, offset: 0 })).toEqual([]);
    });
  });
}
