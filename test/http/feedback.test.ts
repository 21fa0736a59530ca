import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { SseConnection, threadPath } from '../helpers/sse-client.js';

/**
 * POST /api/v1/feedback/chat and /feedback/flow over the real app: ratings embedded in every
 * message read, replaced, revoked, refused for questions and for other organisations' messages,
 * and announced on the thread's live stream.
 */

/** Real time moved on by `advance`, so a replacement's `updated_at` is later without waiting. */
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const advance = (ms = 1000) => void (offsetMs += ms);

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext({ clock });
});
afterAll(async () => {
  await context.close();
});

interface Conversation {
  api: Api;
  organizationId: string;
  userId: string;
  agentId: string;
  threadId: string;
  question: { id: string };
  answer: { id: string; metadata: { run_id: string } };
}

/** An organisation whose demo agent answered one question. */
async function conversation(): Promise<Conversation> {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const agent = await api.createAgent();
  const thread = await api.createThread(agent.id);
  const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
    role: 'user',
    content: 'Where is my parcel?',
  });
  expect(reply.status).toBe(200);
  const messages = await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`);
  const [question, answer] = messages.body;
  return {
    api,
    organizationId: organization.organizationId,
    userId: organization.userId,
    agentId: agent.id,
    threadId: thread.id,
    question,
    answer,
  };
}

function rate(api: Api, messageId: string, details: Record<string, unknown>, headers?: Record<string, string>) {
  return api.post(
    '/api/v1/feedback/chat',
    { message_id: messageId, source: 'chat', feedback_details: details },
    headers,
  );
}

/** The organisation's stored ratings of answers, newest first. */
function storedRows(organizationId: string) {
  return context.store.feedback.list({ organizationId, limit: 100, offset: 0 });
}

describe('POST /api/v1/feedback/chat', () => {
  it('rates an answer, linking its question and run, and every message read embeds it', async () => {
    const chat = await conversation();
    const response = await rate(chat.api, chat.answer.id, {
      feedback_type: 'positive',
      issue_type: null,
      comment: 'Spot on',
      context_id: 'widget-1',
    });
    expect(response.status).toBe(200);
    const { id, created_at: createdAt } = response.body;
    expect(response.body).toEqual({
      portkey_trace_id: '',
      user_id: chat.userId,
      organization_id: chat.organizationId,
      id: expect.any(String),
      human_message_id: chat.question.id,
      ai_message_id: chat.answer.id,
      flow_execution_id: chat.answer.metadata.run_id,
      feedback_type: 'positive',
      issue_type: null,
      comment: 'Spot on',
      portkey_synced: false,
      portkey_sync_timestamp: null,
      created_at: createdAt,
      updated_at: createdAt,
    });
    const embedded = {
      id,
      human_message_id: chat.question.id,
      ai_message_id: chat.answer.id,
      flow_execution_id: chat.answer.metadata.run_id,
      user_id: chat.userId,
      organization_id: chat.organizationId,
      feedback_type: 'positive',
      issue_type: null,
      comment: 'Spot on',
      created_at: createdAt,
      updated_at: createdAt,
    };
    const thread = await chat.api.get(`/api/v1/chat/${chat.agentId}/threads/${chat.threadId}`);
    const listed = await chat.api.get(`/api/v1/chat/${chat.agentId}/threads/${chat.threadId}/messages`);
    for (const messages of [thread.body.messages, listed.body]) {
      expect(messages.map((message: { id: string }) => message.id)).toEqual([chat.question.id, chat.answer.id]);
      expect(messages[1].feedback).toEqual(embedded);
      // The question shows the rating of its answer too (messages-store: a pair's rating).
      expect(messages[0].feedback).toEqual(embedded);
    }
    const rows = await storedRows(chat.organizationId);
    expect(rows.map((row) => [row.id, row.source, row.context_id, row.anon_user_id])).toEqual([
      [id, 'chat', 'widget-1', null],
    ]);
  });

  it('replaces the author’s rating: one row, created_at kept, updated_at later', async () => {
    const chat = await conversation();
    const first = await rate(chat.api, chat.answer.id, { feedback_type: 'positive' });
    advance();
    const second = await rate(chat.api, chat.answer.id, {
      feedback_type: 'negative',
      issue_type: 'wrong_answer',
      comment: 'Not my parcel',
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      id: first.body.id,
      feedback_type: 'negative',
      issue_type: 'wrong_answer',
      comment: 'Not my parcel',
      created_at: first.body.created_at,
    });
    expect(second.body.updated_at > first.body.updated_at).toBe(true);
    const rows = await storedRows(chat.organizationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: first.body.id, feedback_type: 'negative', updated_at: second.body.updated_at });
    const listed = await chat.api.get(`/api/v1/chat/${chat.agentId}/threads/${chat.threadId}/messages`);
    expect(listed.body[1].feedback).toMatchObject({ id: first.body.id, feedback_type: 'negative' });
  });

  it('revokes with feedback_type null: the revoked rating answers, and feedback is null after', async () => {
    const chat = await conversation();
    const given = await rate(chat.api, chat.answer.id, { feedback_type: 'positive', comment: 'ok' });
    advance();
    const revoked = await rate(chat.api, chat.answer.id, { feedback_type: null });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({
      ...given.body,
      feedback_type: null,
      updated_at: expect.any(String),
    });
    expect(revoked.body.updated_at > given.body.updated_at).toBe(true);
    expect(await storedRows(chat.organizationId)).toEqual([]);
    const listed = await chat.api.get(`/api/v1/chat/${chat.agentId}/threads/${chat.threadId}/messages`);
    expect(listed.body.map((message: { feedback: unknown }) => message.feedback)).toEqual([null, null]);

    // Nothing left to revoke: the answer is the rating as it stands, none (no id, no times).
    const again = await rate(chat.api, chat.answer.id, { feedback_type: null });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      portkey_trace_id: '',
      user_id: chat.userId,
      organization_id: chat.organizationId,
      id: null,
      human_message_id: null,
      ai_message_id: chat.answer.id,
      flow_execution_id: null,
      feedback_type: null,
      issue_type: null,
      comment: null,
      portkey_synced: false,
      portkey_sync_timestamp: null,
      created_at: null,
      updated_at: null,
    });
  });

  it('refuses a rating of a user message with 422 feedback_target_not_answer, storing nothing', async () => {
    const chat = await conversation();
    const response = await rate(chat.api, chat.question.id, { feedback_type: 'negative' });
    expect(response.status).toBe(422);
    expect(response.body).toEqual({
      detail: 'Feedback rates an assistant message: this message is not one.',
      code: 'feedback_target_not_answer',
      request_id: response.headers['x-request-id'],
    });
    expect(await storedRows(chat.organizationId)).toEqual([]);
  });

  it('answers 404 message_not_found for another organisation’s message and a missing one, storing nothing', async () => {
    const owner = await conversation();
    const stranger = await context.newOrganization();
    const strangerApi = client(context, stranger.key);
    for (const messageId of [owner.answer.id, owner.answer.id.toUpperCase(), crypto.randomUUID(), 'not-a-uuid']) {
      for (const feedbackType of ['positive', null]) {
        const response = await rate(strangerApi, messageId, { feedback_type: feedbackType });
        expect(response.status).toBe(404);
        expect(response.body).toEqual({
          detail: 'Chat message not found.',
          code: 'message_not_found',
          request_id: response.headers['x-request-id'],
        });
      }
    }
    expect(await storedRows(owner.organizationId)).toEqual([]);
    expect(
      await context.store.feedback.list({ organizationId: stranger.organizationId, limit: 100, offset: 0 }),
    ).toEqual([]);
  });

  it('takes an Idempotency-Key: a retry replays the answer and stores nothing more', async () => {
    const chat = await conversation();
    const headers = { 'idempotency-key': `feedback-${crypto.randomUUID()}` };
    const first = await rate(chat.api, chat.answer.id, { feedback_type: 'positive' }, headers);
    advance();
    const replay = await rate(chat.api, chat.answer.id, { feedback_type: 'positive' }, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    const rows = await storedRows(chat.organizationId);
    expect(rows.map((row) => row.updated_at)).toEqual([first.body.updated_at]);
    const reused = await rate(chat.api, chat.answer.id, { feedback_type: 'negative' }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
  });

  it('validates the body: an unknown feedback_type is a 422 at its place', async () => {
    const chat = await conversation();
    const response = await rate(chat.api, chat.answer.id, { feedback_type: 'thumbs_up' });
    expect(response.status).toBe(422);
    expect(response.body.detail[0].loc).toEqual(['body', 'feedback_details', 'feedback_type']);
    expect(await storedRows(chat.organizationId)).toEqual([]);
  });
});

describe('feedback-created on the thread’s stream', () => {
  it('reaches a live follower of GET …/threads/{id}/stream, for a rating and for its revocation', async () => {
    const chat = await conversation();
    const base = await context.listen();
    const follower = await SseConnection.open(`${base}${threadPath(chat)}/stream`, { key: chat.api.key });
    try {
      expect(follower.status).toBe(200);
      const given = await rate(chat.api, chat.answer.id, { feedback_type: 'negative', comment: 'late' });
      const [rated] = (await follower.readUntil((event) => event.event === 'feedback-created')).slice(-1);
      const { portkey_trace_id: _trace, portkey_synced: _synced, portkey_sync_timestamp: _at, ...simple } = given.body;
      expect(rated!.data).toEqual({
        type: 'feedback-created',
        message_id: chat.answer.id,
        revoked: false,
        feedback: simple,
      });
      advance();
      const revoked = await rate(chat.api, chat.answer.id, { feedback_type: null });
      const [withdrawn] = (await follower.readUntil((event) => event.event === 'feedback-created')).slice(-1);
      expect(withdrawn!.data).toEqual({
        type: 'feedback-created',
        message_id: chat.answer.id,
        revoked: true,
        feedback: { ...simple, feedback_type: null, updated_at: revoked.body.updated_at },
      });
      // Durable: the events are in the log, one after the other.
      expect(Number(withdrawn!.id)).toBe(Number(rated!.id) + 1);
    } finally {
      follower.abort();
    }
  });
});

describe('POST /api/v1/feedback/flow', () => {
  function rateRun(api: Api, runId: string, body: Record<string, unknown> = {}) {
    return api.post('/api/v1/feedback/flow', {
      flow_execution_id: runId,
      context_id: 'ctx-1',
      source: 'flow',
      ...body,
    });
  }

  it('rates a run, replaces the rating and revokes it', async () => {
    const chat = await conversation();
    const runId = chat.answer.metadata.run_id;
    const given = await rateRun(chat.api, runId, { feedback_type: 'positive', comment: 'fast' });
    expect(given.status).toBe(200);
    expect(given.body).toEqual({
      id: expect.any(String),
      flow_execution_id: runId,
      user_id: chat.userId,
      organization_id: chat.organizationId,
      created_at: given.body.created_at,
      updated_at: given.body.created_at,
      source: 'flow',
      context_id: 'ctx-1',
      feedback_type: 'positive',
      issue_type: null,
      comment: 'fast',
      portkey_trace_id: null,
      portkey_synced: false,
    });
    advance();
    const replaced = await rateRun(chat.api, runId, { feedback_type: 'negative', issue_type: 'slow' });
    expect(replaced.body).toMatchObject({
      id: given.body.id,
      created_at: given.body.created_at,
      feedback_type: 'negative',
      issue_type: 'slow',
      comment: null,
    });
    expect(replaced.body.updated_at > given.body.updated_at).toBe(true);
    expect(await flowRows(chat.organizationId)).toEqual([[given.body.id, 'negative']]);
    advance();
    const revoked = await rateRun(chat.api, runId, { feedback_type: null });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: given.body.id, feedback_type: null, created_at: given.body.created_at });
    expect(await flowRows(chat.organizationId)).toEqual([]);
  });

  it('answers 404 flow_execution_not_found for a missing run and another organisation’s, storing nothing', async () => {
    const owner = await conversation();
    const stranger = await context.newOrganization();
    const strangerApi = client(context, stranger.key);
    for (const [api, runId] of [
      [strangerApi, owner.answer.metadata.run_id],
      [owner.api, crypto.randomUUID()],
    ] as const) {
      for (const feedbackType of ['positive', null]) {
        const response = await rateRun(api, runId, { feedback_type: feedbackType });
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('flow_execution_not_found');
      }
    }
    expect(await flowRows(owner.organizationId)).toEqual([]);
    expect(await flowRows(stranger.organizationId)).toEqual([]);
  });
});

/** The organisation's stored ratings of runs: [id, feedback_type]. */
async function flowRows(organizationId: string): Promise<[string, string | null][]> {
  const rows = await context.store.feedback.listRunRatings({ organizationId });
  return rows.map((row) => [row.id, row.feedback_type]);
}
