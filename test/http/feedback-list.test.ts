import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackAuthor } from '../../src/domain/feedback.js';
import { EXPORT_CHUNK_CHARS, exportFeedback } from '../../src/features/feedback/feedback-export.js';
import { FeedbackService } from '../../src/features/feedback/feedback.service.js';
import { MemoryDeltaBuffer } from '../../src/runtime/delta-buffer.js';
import { ThreadEventLog } from '../../src/runtime/event-log.js';
import { MemoryLiveBus } from '../../src/runtime/live-bus.js';
import { newId } from '../../src/ids.js';
import { client, createTestContext, seedMessage, type Api, type TestContext } from '../helpers/harness.js';

/**
 * Chat-widget visitors' ratings (at the service: their authenticator is not in the app yet), and
 * the list and export extensions: every filter, cursor pages equal to offset pages, and the
 * export's exact content, CSV quoting and formula guard, streamed in batches.
 */

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const advance = (ms = 1000) => void (offsetMs += ms);

let context: TestContext;
let service: FeedbackService;
beforeAll(async () => {
  context = await createTestContext({ clock });
  const eventLog = new ThreadEventLog({
    store: context.store,
    bus: new MemoryLiveBus(),
    deltas: new MemoryDeltaBuffer(),
  });
  service = new FeedbackService({ store: context.store, eventLog, clock, newId });
});
afterAll(async () => {
  await context.close();
});

interface Organization {
  api: Api;
  organizationId: string;
  userId: string;
}

async function organization(): Promise<Organization> {
  const created = await context.newOrganization();
  return { api: client(context, created.key), organizationId: created.organizationId, userId: created.userId };
}

/** A thread of the agent (a visitor's when `anonUserId` is given). */
async function thread(owner: Organization, agentId: string, anonUserId: string | null = null): Promise<string> {
  const id = crypto.randomUUID();
  const now = clock.now().toISOString();
  const created = await context.store.write((writers) =>
    writers.threads.insert({
      id,
      agent_id: agentId,
      user_id: anonUserId === null ? owner.userId : null,
      anon_user_id: anonUserId,
      organization_id: owner.organizationId,
      title: 'A thread',
      metadata: {},
      created_at: now,
      updated_at: now,
    }),
  );
  expect(created).not.toBeNull();
  return id;
}

/** A question and its answer in the thread; the answer's id. */
async function exchange(owner: Organization, threadId: string, question: string, answer: string) {
  const at = clock.now().getTime();
  const questionId = await seedMessage(context, {
    organizationId: owner.organizationId,
    threadId,
    content: question,
    createdAt: new Date(at).toISOString(),
  });
  const answerId = await seedMessage(context, {
    organizationId: owner.organizationId,
    threadId,
    role: 'assistant',
    content: answer,
    createdAt: new Date(at + 1).toISOString(),
  });
  return { questionId, answerId };
}

function rateAs(owner: Organization, author: FeedbackAuthor, messageId: string, details: Record<string, unknown>) {
  return service.rateMessage({
    organizationId: owner.organizationId,
    author,
    messageId,
    source: 'widget',
    details: { feedback_type: null, issue_type: null, comment: null, context_id: null, ...details },
  });
}

describe('chat-widget visitors (at the service)', () => {
  it('rate only answers of their own threads of their agent; others are 404 and store nothing', async () => {
    const owner = await organization();
    const agent = await owner.api.createAgent();
    const otherAgent = await owner.api.createAgent();
    const visitor = crypto.randomUUID();
    const visitorThread = await thread(owner, agent.id, visitor);
    const userThread = await thread(owner, agent.id);
    const { answerId } = await exchange(owner, visitorThread, 'Hi', 'Hello!');
    const { answerId: usersAnswer } = await exchange(owner, userThread, 'Hi', 'Hello!');
    const self: FeedbackAuthor = { kind: 'anonymous', anonymousUserId: visitor, agentId: agent.id };

    for (const [author, messageId] of [
      [{ kind: 'anonymous', anonymousUserId: crypto.randomUUID(), agentId: agent.id }, answerId],
      [{ ...self, agentId: otherAgent.id }, answerId],
      [self, usersAnswer],
    ] as const) {
      await expect(rateAs(owner, author, messageId, { feedback_type: 'positive' })).rejects.toMatchObject({
        code: 'message_not_found',
        status: 404,
      });
    }
    expect(await context.store.feedback.list({ organizationId: owner.organizationId, limit: 10, offset: 0 })).toEqual(
      [],
    );

    const rated = await rateAs(owner, self, answerId, { feedback_type: 'negative', comment: 'meh' });
    expect(rated).toMatchObject({ user_id: visitor, ai_message_id: answerId, feedback_type: 'negative' });
    const [stored] = await context.store.feedback.list({ organizationId: owner.organizationId, limit: 10, offset: 0 });
    expect(stored).toMatchObject({ id: rated.id, user_id: visitor, anon_user_id: visitor, source: 'widget' });
    const messages = await owner.api.get(`/api/v1/chat/${agent.id}/threads/${visitorThread}/messages`);
    expect(messages.body[1].feedback).toMatchObject({ id: rated.id, user_id: visitor, feedback_type: 'negative' });

    // A user of the organisation rates the same answer as another author: two rows.
    const byUser = await rateAs(owner, { kind: 'user', userId: owner.userId }, answerId, { feedback_type: 'positive' });
    expect(byUser.id).not.toBe(rated.id);
    const revoked = await rateAs(owner, self, answerId, { feedback_type: null });
    expect(revoked).toMatchObject({ id: rated.id, feedback_type: null });
    const left = await context.store.feedback.list({ organizationId: owner.organizationId, limit: 10, offset: 0 });
    expect(left.map((row) => row.id)).toEqual([byUser.id]);
  });
});

describe('GET /api/v1/feedback', () => {
  interface Given {
    id: string;
    agentId: string;
    type: 'positive' | 'negative';
    issue: string | null;
    anonymous: boolean;
    createdAt: string;
  }
  let owner: Organization;
  let agents: string[];
  /** Newest first, as the list runs. */
  let given: Given[];

  beforeAll(async () => {
    owner = await organization();
    agents = [(await owner.api.createAgent()).id, (await owner.api.createAgent()).id];
    const visitor = crypto.randomUUID();
    const threads = [
      await thread(owner, agents[0]!),
      await thread(owner, agents[1]!),
      await thread(owner, agents[0]!, visitor),
    ];
    const plan: [number, 'positive' | 'negative', string | null][] = [
      [0, 'positive', null],
      [0, 'negative', 'wrong_answer'],
      [1, 'negative', 'wrong_answer'],
      [2, 'positive', null],
      [0, 'positive', null],
      [1, 'positive', null],
      [2, 'negative', 'wrong_answer'],
      [0, 'negative', 'slow'],
      [1, 'negative', 'slow'],
      [0, 'negative', 'wrong_answer'],
      [2, 'negative', 'slow'],
    ];
    given = [];
    for (const [threadIndex, type, issue] of plan) {
      advance();
      const { answerId } = await exchange(owner, threads[threadIndex]!, 'Question', 'Answer');
      const author: FeedbackAuthor =
        threadIndex === 2
          ? { kind: 'anonymous', anonymousUserId: visitor, agentId: agents[0]! }
          : { kind: 'user', userId: owner.userId };
      const rating = await rateAs(owner, author, answerId, { feedback_type: type, issue_type: issue });
      given.unshift({
        id: rating.id!,
        agentId: agents[threadIndex === 1 ? 1 : 0]!,
        type,
        issue,
        anonymous: threadIndex === 2,
        createdAt: rating.created_at!,
      });
    }
  });

  async function listed(query: string): Promise<string[]> {
    const response = await owner.api.get(`/api/v1/feedback?limit=100&${query}`);
    expect(response.status).toBe(200);
    expect(response.body.has_more).toBe(false);
    return response.body.feedback.map((row: { id: string }) => row.id);
  }
  const ids = (rows: Given[]) => rows.map((row) => row.id);

  it('lists the organisation’s ratings newest first, with their agent and thread', async () => {
    const response = await owner.api.get('/api/v1/feedback');
    expect(response.status).toBe(200);
    expect(response.body.feedback.map((row: { id: string }) => row.id)).toEqual(ids(given));
    expect(response.body.feedback[0]).toMatchObject({
      agent_id: agents[0],
      anon_user_id: expect.any(String),
      source: 'widget',
      feedback_type: 'negative',
      issue_type: 'slow',
    });
    const stranger = await organization();
    expect((await stranger.api.get('/api/v1/feedback')).body).toEqual({ feedback: [], has_more: false });
    expect(await listed(`agent_id=${agents[0]}`)).toEqual(ids(given.filter((row) => row.agentId === agents[0])));
    expect(await stranger.api.get(`/api/v1/feedback?agent_id=${agents[0]}`)).toMatchObject({
      body: { feedback: [] },
    });
  });

  it('narrows by each filter and by several together', async () => {
    const from = given[7]!.createdAt;
    const to = given[2]!.createdAt;
    const cases: [string, (row: Given) => boolean][] = [
      [`agent_id=${agents[1]}`, (row) => row.agentId === agents[1]],
      ['feedback_type=positive', (row) => row.type === 'positive'],
      ['feedback_type=negative', (row) => row.type === 'negative'],
      ['issue_type=wrong_answer', (row) => row.issue === 'wrong_answer'],
      [`from=${from}`, (row) => row.createdAt >= from],
      [`to=${to}`, (row) => row.createdAt <= to],
      [`from=${from}&to=${to}`, (row) => row.createdAt >= from && row.createdAt <= to],
      ['anonymous=true', (row) => row.anonymous],
      ['anonymous=false', (row) => !row.anonymous],
      [
        `agent_id=${agents[0]}&feedback_type=negative&anonymous=false`,
        (row) => row.agentId === agents[0] && row.type === 'negative' && !row.anonymous,
      ],
      [
        `issue_type=wrong_answer&anonymous=true&from=${from}`,
        (row) => row.issue === 'wrong_answer' && row.anonymous && row.createdAt >= from,
      ],
    ];
    for (const [query, keep] of cases) {
      const expected = ids(given.filter(keep));
      expect(expected.length, query).toBeGreaterThan(0);
      expect(expected.length, query).toBeLessThan(given.length);
      expect(await listed(query), query).toEqual(expected);
    }
  });

  it('pages by before/after cursors exactly as by offset', async () => {
    const page = async (query: string) => (await owner.api.get(`/api/v1/feedback?limit=4&${query}`)).body;
    const byOffset = [await page('offset=0'), await page('offset=4'), await page('offset=8')];
    expect(byOffset.map((body) => body.has_more)).toEqual([true, true, false]);
    expect(byOffset.flatMap((body) => body.feedback.map((row: { id: string }) => row.id))).toEqual(ids(given));
    const last = (body: { feedback: { id: string }[] }) => body.feedback.at(-1)!.id;
    const first = (body: { feedback: { id: string }[] }) => body.feedback[0]!.id;
    expect(await page(`after=${last(byOffset[0])}`)).toEqual(byOffset[1]);
    expect(await page(`after=${last(byOffset[1])}`)).toEqual(byOffset[2]);
    expect(await page(`before=${first(byOffset[2])}`)).toEqual(byOffset[1]);
    expect(await page(`before=${first(byOffset[1])}`)).toEqual({ ...byOffset[0], has_more: false });
    // A cursor with a filter: the next page among the matches only.
    const negatives = ids(given.filter((row) => row.type === 'negative'));
    const afterSecond = await page(`feedback_type=negative&after=${negatives[1]}`);
    expect(afterSecond.feedback.map((row: { id: string }) => row.id)).toEqual(negatives.slice(2, 6));
  });

  it('refuses both cursors at once, an unknown cursor and a range that ends before it starts', async () => {
    const both = await owner.api.get(`/api/v1/feedback?before=${given[0]!.id}&after=${given[1]!.id}`);
    expect(both.status).toBe(422);
    expect(both.body.detail[0].loc).toEqual(['query', 'before']);
    const stranger = await organization();
    const foreign = await stranger.api.get(`/api/v1/feedback?after=${given[0]!.id}`);
    expect(foreign.status).toBe(422);
    expect(foreign.body.detail[0].loc).toEqual(['query', 'after']);
    const backwards = await owner.api.get(`/api/v1/feedback?from=${given[0]!.createdAt}&to=${given[5]!.createdAt}`);
    expect(backwards.status).toBe(422);
    expect(backwards.body.detail[0].loc).toEqual(['query', 'to']);
    const tooMany = await owner.api.get('/api/v1/feedback?limit=101');
    expect(tooMany.status).toBe(422);
  });
});

describe('GET /api/v1/feedback/export', () => {
  it('writes JSON Lines and CSV with the conversation, quoted and guarded against formulas', async () => {
    const owner = await organization();
    const agent = await owner.api.createAgent();
    const threadId = await thread(owner, agent.id);
    const user: FeedbackAuthor = { kind: 'user', userId: owner.userId };
    advance();
    const first = await exchange(owner, threadId, 'Total, please', '=SUM(A1:A9)');
    const older = await rateAs(owner, user, first.answerId, {
      feedback_type: 'negative',
      issue_type: '@risk',
      comment: 'He said "no",\nthen left',
    });
    advance();
    const second = await exchange(owner, threadId, '-1 or +1?', 'Plain answer');
    const newer = await rateAs(owner, user, second.answerId, { feedback_type: 'positive', context_id: 'c-9' });

    const row = (rating: typeof older, question: { questionId: string; answerId: string }, texts: string[]) => ({
      id: rating.id,
      created_at: rating.created_at,
      updated_at: rating.updated_at,
      feedback_type: rating.feedback_type,
      issue_type: rating.issue_type,
      comment: rating.comment,
      user_id: owner.userId,
      anon_user_id: null,
      organization_id: owner.organizationId,
      agent_id: agent.id,
      thread_id: threadId,
      human_message_id: question.questionId,
      human_message_content: texts[0],
      ai_message_id: question.answerId,
      ai_message_content: texts[1],
      flow_execution_id: null,
      source: 'widget',
      context_id: rating === newer ? 'c-9' : null,
    });
    const expectedRows = [
      row(newer, second, ['-1 or +1?', 'Plain answer']),
      row(older, first, ['Total, please', '=SUM(A1:A9)']),
    ];

    const jsonl = await owner.api.get(`/api/v1/feedback/export?format=jsonl&agent_id=${agent.id}`);
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(jsonl.headers['content-disposition']).toBe('attachment; filename="feedback.jsonl"');
    expect(jsonl.raw).toBe(expectedRows.map((value) => `${JSON.stringify(value)}\n`).join(''));

    const csv = await owner.api.get('/api/v1/feedback/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="feedback.csv"');
    const common = `${owner.userId},,${owner.organizationId},${agent.id},${threadId}`;
    expect(csv.raw).toBe(
      [
        'id,created_at,updated_at,feedback_type,issue_type,comment,user_id,anon_user_id,organization_id,agent_id,thread_id,human_message_id,human_message_content,ai_message_id,ai_message_content,flow_execution_id,source,context_id',
        `${newer.id},${newer.created_at},${newer.updated_at},positive,,,${common},${second.questionId},'-1 or +1?,${second.answerId},Plain answer,,widget,c-9`,
        `${older.id},${older.created_at},${older.updated_at},negative,'@risk,"He said ""no"",\nthen left",${common},${first.questionId},"Total, please",${first.answerId},'=SUM(A1:A9),,widget,`,
        '',
      ].join('\r\n'),
    );

    const empty = await owner.api.get(
      `/api/v1/feedback/export?format=csv&feedback_type=positive&to=${older.created_at}`,
    );
    expect(empty.raw).toBe(`${csv.raw.split('\r\n')[0]}\r\n`);
  });

  it('streams thousands of ratings in keyset batches: several chunks that parse to the stored rows, in order', async () => {
    const owner = await organization();
    const agent = await owner.api.createAgent();
    const threadId = await thread(owner, agent.id);
    const { answerId } = await exchange(owner, threadId, 'Question', 'Answer');
    const count = 3_000;
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const rows = Array.from({ length: count }, (_, index) => {
      // Pairs share a millisecond: the id decides their order.
      const at = new Date(base + Math.floor(index / 2)).toISOString();
      return {
        id: crypto.randomUUID(),
        organization_id: owner.organizationId,
        thread_id: threadId,
        user_id: crypto.randomUUID(),
        human_message_id: null,
        ai_message_id: answerId,
        flow_execution_id: null,
        feedback_type: index % 3 === 0 ? 'negative' : 'positive',
        issue_type: null,
        comment: `comment ${index} ${'x'.repeat(200)}`,
        created_at: at,
        updated_at: at,
      };
    });
    await context.store.write(async (writers) => {
      for (const value of rows) await writers.messages.insertFeedback(value);
    });
    const expectedIds = [...rows]
      .sort((left, right) => {
        const [a, b] = [`${left.created_at} ${left.id}`, `${right.created_at} ${right.id}`];
        return a < b ? 1 : a > b ? -1 : 0;
      })
      .map((value) => value.id);

    const address = await context.listen();
    const response = await fetch(`${address}/api/v1/feedback/export?format=jsonl`, {
      headers: { 'x-api-key': owner.api.key },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    expect(chunks.length).toBeGreaterThan(1);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    const parsed = lines.map((line) => JSON.parse(line) as { id: string; comment: string; ai_message_content: string });
    expect(parsed.map((value) => value.id)).toEqual(expectedIds);
    const byId = new Map<string, (typeof rows)[number]>(rows.map((value) => [value.id, value]));
    for (const value of parsed) {
      expect(value.comment).toBe(byId.get(value.id)!.comment);
      expect(value.ai_message_content).toBe('Answer');
    }

    // Keyset batches of 7 rows: batch edges fall inside pairs with the same created_at, and the
    // export still has every row once, in order.
    const filter = { organizationId: owner.organizationId };
    const exported = async (batchRows?: number) => {
      const chunks: string[] = [];
      for await (const chunk of exportFeedback({ store: context.store, filter, format: 'jsonl', batchRows })) {
        chunks.push(chunk);
      }
      return chunks;
    };
    const idsOf = (chunks: string[]) =>
      chunks
        .join('')
        .split('\n')
        .slice(0, -1)
        .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(idsOf(await exported(7))).toEqual(expectedIds);
    // Default batches: the reply gets chunks of about EXPORT_CHUNK_CHARS, several a batch.
    const pieces = await exported();
    expect(idsOf(pieces)).toEqual(expectedIds);
    const longestLine = Math.max(...lines.map((line) => line.length + 1));
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(EXPORT_CHUNK_CHARS + longestLine);
    expect(pieces.length).toBeGreaterThan(count / 500);
  });
});
