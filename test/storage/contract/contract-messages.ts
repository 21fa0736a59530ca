import { describe, expect, it } from 'vitest';
import type { NewMessage } from '../../../src/domain/runs.js';
import {
  at,
  feedbackInput,
  messageInput,
  oldestFirst,
  randomId,
  toolCallInput,
  type ContractFixture,
} from './fixtures.js';

async function seedMessages(fixture: ContractFixture, rows: NewMessage[]): Promise<void> {
  await fixture.store.write(async (writers) => {
    for (const message of rows) await writers.messages.insert(message);
  });
}

/** An organisation with one agent and `threadCount` threads. */
async function seedThreads(fixture: ContractFixture, threadCount: number) {
  const organization = await fixture.newOrganization();
  const agent = await fixture.newAgent(organization.organizationId);
  const threadIds: string[] = [];
  for (let index = 0; index < threadCount; index += 1) {
    threadIds.push((await fixture.newThread({ organizationId: organization.organizationId, agentId: agent.id })).id);
  }
  return { ...organization, agentId: agent.id, threadIds };
}

export function describeMessageCases(fixture: ContractFixture): void {
  describe('messages', () => {
    it('inserts a message with its tool calls in position order and touches the thread', async () => {
      const { store } = fixture;
      const { organizationId, agentId, threadIds } = await seedThreads(fixture, 1);
      const threadId = threadIds[0]!;
      const message = messageInput({
        organizationId,
        threadId,
        role: 'assistant',
        content: 'Il est midi 🕛 — الساعة الثانية عشرة',
        content_html: '<p>Il est midi</p>',
        attachments: [{ name: 'a.txt', size: 3 }],
        metadata: { model: 'demo', usage: { tokens: 12 } },
        created_at: at(30),
      });
      // Inserted out of order: the reader sorts by position.
      const toolCalls = [
        toolCallInput(message, { position: 1, tool_name: 'second', arguments: { n: 2 }, result: 'done' }),
        toolCallInput(message, {
          position: 0,
          tool_name: 'first',
          arguments: { q: '時間' },
          result: { time: '12:00' },
        }),
      ];
      const inserted = await store.write((writers) => writers.messages.insert({ ...message, tool_calls: toolCalls }));
      expect(inserted).toMatchObject({
        id: message.id,
        thread_id: threadId,
        role: 'assistant',
        content: message.content,
        content_html: '<p>Il est midi</p>',
        attachments: [{ name: 'a.txt', size: 3 }],
        metadata: { model: 'demo', usage: { tokens: 12 } },
        created_at: at(30),
        feedback: null,
      });
      const listed = await store.messages.listForThread({ organizationId, threadId, limit: 10, offset: 0 });
      expect(listed).toHaveLength(1);
      expect(listed[0]).toEqual({
        ...inserted,
        tool_calls: [
          {
            tool_name: 'first',
            arguments: { q: '時間' },
            result: { time: '12:00' },
            error: null,
            start_time: at(30),
            end_time: at(30),
          },
          {
            tool_name: 'second',
            arguments: { n: 2 },
            result: 'done',
            error: null,
            start_time: at(30),
            end_time: at(30),
          },
        ],
      });
      const thread = await store.threads.get({ organizationId, agentId, id: threadId });
      expect(thread?.updated_at).toBe(at(30));
    });

    it('lists a thread chronologically, breaking ties by id ascending, with limit and offset', async () => {
      const { store } = fixture;
      const { organizationId, threadIds } = await seedThreads(fixture, 1);
      const threadId = threadIds[0]!;
      const rows = [3, 1, 2, 1, 3, 2, 1, 2, 3, 1].map((seconds) =>
        messageInput({ organizationId, threadId, created_at: at(seconds), content: `m${seconds}` }),
      );
      await seedMessages(fixture, rows);
      const expected = oldestFirst(rows);
      const listed = await store.messages.listForThread({ organizationId, threadId, limit: 100, offset: 0 });
      expect(listed.map((message) => message.id)).toEqual(expected);

      const paged: string[] = [];
      for (let offset = 0; offset < rows.length; offset += 3) {
        const page = await store.messages.listForThread({ organizationId, threadId, limit: 3, offset });
        paged.push(...page.map((message) => message.id));
      }
      expect(paged).toEqual(expected);
      expect(await store.messages.listForThread({ organizationId, threadId, limit: 3, offset: 10 })).toEqual([]);
      expect(await store.messages.listForThread({ organizationId, threadId: randomId(), limit: 3, offset: 0 })).toEqual(
        [],
      );
    });

    it('listForThreads groups messages by thread, chronologically, with an entry for every id asked', async () => {
      const { store } = fixture;
      const { organizationId, threadIds } = await seedThreads(fixture, 3);
      const [first, second, empty] = threadIds as [string, string, string];
      const rows = [
        messageInput({ organizationId, threadId: second, created_at: at(2) }),
        messageInput({ organizationId, threadId: first, created_at: at(3) }),
        messageInput({ organizationId, threadId: first, created_at: at(1) }),
        messageInput({ organizationId, threadId: second, created_at: at(2) }),
        messageInput({ organizationId, threadId: first, created_at: at(1) }),
        messageInput({ organizationId, threadId: second, created_at: at(0) }),
      ];
      await seedMessages(fixture, rows);
      const unknown = randomId();
      const grouped = await store.messages.listForThreads({
        organizationId,
        threadIds: [first, second, empty, unknown],
      });
      expect([...grouped.keys()]).toEqual([first, second, empty, unknown]);
      const idsOf = (threadId: string) => grouped.get(threadId)?.map((message) => message.id);
      expect(idsOf(first)).toEqual(oldestFirst(rows.filter((row) => row.thread_id === first)));
      expect(idsOf(second)).toEqual(oldestFirst(rows.filter((row) => row.thread_id === second)));
      expect(idsOf(empty)).toEqual([]);
      expect(idsOf(unknown)).toEqual([]);

      // The grouped read embeds exactly what the single-thread read does.
      const single = await store.messages.listForThread({ organizationId, threadId: first, limit: 100, offset: 0 });
      expect(grouped.get(first)).toEqual(single);
      expect(await store.messages.listForThreads({ organizationId, threadIds: [] })).toEqual(new Map());
    });

    it('embeds feedback: the newest wins, and feedback on the answer beats feedback on the question', async () => {
      const { store } = fixture;
      const { organizationId, userId, threadIds } = await seedThreads(fixture, 1);
      const threadId = threadIds[0]!;
      const question = messageInput({ organizationId, threadId, created_at: at(1) });
      const answer = messageInput({ organizationId, threadId, role: 'assistant', created_at: at(2) });
      const followUp = messageInput({ organizationId, threadId, created_at: at(3) });
      const unrated = messageInput({ organizationId, threadId, created_at: at(4) });
      await seedMessages(fixture, [question, answer, followUp, unrated]);
      const base = { organizationId, threadId, userId };
      // On `question`: an older rating as the answer's subject beats a newer one naming it as question.
      const questionAsAnswer = feedbackInput({
        ...base,
        ai_message_id: question.id,
        created_at: at(10),
        comment: 'ai',
      });
      const questionAsQuestion = feedbackInput({ ...base, human_message_id: question.id, created_at: at(20) });
      // On `answer`: two ratings, the newer (by updated_at) wins whatever the insertion order.
      const newer = feedbackInput({
        ...base,
        ai_message_id: answer.id,
        created_at: at(5),
        updated_at: at(40),
        comment: 'newer',
      });
      // Another author (one rating per author and answer, migration 0011).
      const older = feedbackInput({
        ...base,
        userId: randomId(),
        ai_message_id: answer.id,
        created_at: at(30),
        updated_at: at(30),
        comment: 'older',
      });
      // On `followUp`: named only as a question, twice; again the newer wins.
      const laterOnFollowUp = feedbackInput({
        ...base,
        human_message_id: followUp.id,
        updated_at: at(50),
        comment: 'later',
      });
      const earlierOnFollowUp = feedbackInput({ ...base, human_message_id: followUp.id, updated_at: at(45) });
      await store.write(async (writers) => {
        for (const row of [newer, laterOnFollowUp, questionAsQuestion, older, earlierOnFollowUp, questionAsAnswer]) {
          await writers.messages.insertFeedback(row);
        }
      });

      const listed = await store.messages.listForThread({ organizationId, threadId, limit: 10, offset: 0 });
      const feedbackOf = (id: string) => listed.find((message) => message.id === id)?.feedback;
      expect(feedbackOf(question.id)).toEqual({
        id: questionAsAnswer.id,
        human_message_id: null,
        ai_message_id: question.id,
        flow_execution_id: null,
        user_id: userId,
        organization_id: organizationId,
        feedback_type: 'thumbs_up',
        issue_type: null,
        comment: 'ai',
        created_at: at(10),
        updated_at: at(10),
      });
      expect(feedbackOf(answer.id)).toMatchObject({ id: newer.id, comment: 'newer' });
      expect(feedbackOf(followUp.id)).toMatchObject({ id: laterOnFollowUp.id, comment: 'later' });
      expect(feedbackOf(unrated.id)).toBeNull();
    });

    it('keeps a tool call’s null result apart from an object, array or string result', async () => {
      const { store } = fixture;
      const { organizationId, threadIds } = await seedThreads(fixture, 1);
      const message = messageInput({ organizationId, threadId: threadIds[0]!, role: 'assistant' });
      const toolCalls = [
        toolCallInput(message, { position: 0, result: null, error: 'timed out', end_time: null }),
        toolCallInput(message, { position: 1, result: {} }),
        toolCallInput(message, { position: 2, result: { nested: { value: null, list: [1, 'two', false] } } }),
        toolCallInput(message, { position: 3, result: [] }),
        toolCallInput(message, { position: 4, result: '' }),
        toolCallInput(message, { position: 5, result: 0 }),
      ];
      await store.write((writers) => writers.messages.insert({ ...message, tool_calls: toolCalls }));
      const [stored] = await store.messages.listForThread({
        organizationId,
        threadId: threadIds[0]!,
        limit: 1,
        offset: 0,
      });
      expect(stored?.tool_calls.map((call) => call.result)).toEqual([
        null,
        {},
        { nested: { value: null, list: [1, 'two', false] } },
        [],
        '',
        0,
      ]);
      expect(stored?.tool_calls[0]).toMatchObject({ error: 'timed out', end_time: null });
      expect(stored?.tool_calls[1]).toMatchObject({ error: null });
    });
  });
}
