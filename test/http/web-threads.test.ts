import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type Response, type TestContext } from '../helpers/harness.js';
import { dumpDatabase, expectError } from '../helpers/routes.js';
import { createWidgetKey, startSession, userHash, visitorClient, type VisitorClient } from '../helpers/widget.js';

/**
 * Web threads (issue 12, part C2; docs/web-threads.md) over the real app on the test dialect:
 * visitors made through the real widget flow (widget key → session → thread → message, the demo
 * agent answering), ratings through POST /feedback/chat, ticket fields through the thread PATCH.
 */

const SHOP = 'https://shop.example';
const MINUTE = 60_000;

/** Real time moved on by `advance`, so each thread has its own created_at without waiting. */
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

type Feedback = 'positive' | 'negative' | null;

/** A visitor's thread as the fixture made it: what each filter should see of it. */
interface Fixture {
  id: string;
  created_at: string;
  words: string[];
  feedback: Feedback[];
  ticket: string | null;
  visitor: VisitorClient;
}

let context: TestContext;
let admin: Api;
let agentId: string;
let threads: Fixture[];
let staffThreadId: string;
let otherAgentThreadId: string;
let identified: { threadId: string; widgetUser: Record<string, unknown> };

async function visitorThread(
  key: string,
  input: { agent: string; question: string; rating?: Feedback; ratedBy?: 'visitor' | 'user' },
) {
  offsetMs += MINUTE;
  const session = await startSession(context, { widgetKey: key, origin: SHOP });
  const visitor = visitorClient(context, session.token, SHOP);
  const thread = await visitor.post(`/api/v1/chat/${input.agent}/threads`, {
    agent_id: input.agent,
    title: input.question,
    metadata: {},
  });
  expect(thread.status, thread.raw).toBe(200);
  const reply = await visitor.post(`/api/v1/chat/${input.agent}/threads/${thread.body.id}/messages`, {
    role: 'user',
    content: input.question,
  });
  expect(reply.status, reply.raw).toBe(200);
  if (input.rating) {
    const messages = await admin.get(`/api/v1/chat/${input.agent}/threads/${thread.body.id}/messages`);
    const answer = messages.body.find((message: { role: string }) => message.role === 'assistant');
    const rater = input.ratedBy === 'user' ? admin : visitor;
    const rated = await rater.post('/api/v1/feedback/chat', {
      message_id: answer.id,
      source: 'chat',
      feedback_details: { feedback_type: input.rating },
    });
    expect(rated.status, rated.raw).toBe(200);
  }
  return { id: thread.body.id as string, created_at: thread.body.created_at as string, visitor };
}

async function setTicket(threadId: string, ticket: string) {
  const response = await admin.patch(`/api/v1/chat/${agentId}/threads/${threadId}`, {
    ticket_id: ticket,
    chat_history_parent_comment_id: `comment-${ticket}`,
    connected_to_platform: true,
  });
  expect(response.status, response.raw).toBe(200);
}

beforeAll(async () => {
  context = await createTestContext({
    clock,
    widget: { visitorRequestsPerMinute: 100_000, visitorRequestsPerMinutePerIp: 100_000, sessionsPerMinutePerIp: 1000 },
  });
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant' })).id;
  const otherAgent = (await admin.createAgent({ name: 'Other assistant' })).id;
  const widgetKey = await createWidgetKey(admin, agentId, [SHOP]);
  const key = widgetKey.publishable_key;
  const otherKey = (await createWidgetKey(admin, otherAgent, [SHOP])).publishable_key;

  const staff = await admin.createThread(agentId, { title: 'Staff invoice parcel question' });
  staffThreadId = staff.id;
  await admin.post(`/api/v1/chat/${agentId}/threads/${staff.id}/messages`, {
    role: 'user',
    content: 'Staff asks about an invoice and a parcel',
  });
  otherAgentThreadId = (await visitorThread(otherKey, { agent: otherAgent, question: 'Invoice on another agent' })).id;

  const plan: {
    question: string;
    words: string[];
    rating?: Feedback;
    ratedBy?: 'visitor' | 'user';
    ticket?: string;
  }[] = [
    { question: 'My invoice total is wrong', words: ['invoice'], rating: 'positive' },
    { question: 'Where is my parcel', words: ['parcel'], rating: 'negative', ratedBy: 'user', ticket: 'TCK-2' },
    { question: 'Please send an invoice copy', words: ['invoice', 'copy'], ticket: 'TCK-3' },
    { question: 'Hello there', words: [] },
    { question: 'The parcel arrived damaged', words: ['parcel', 'damaged'], rating: 'positive', ratedBy: 'user' },
    { question: 'Invoice and parcel both missing', words: ['invoice', 'parcel'], rating: 'negative', ticket: 'TCK-6' },
  ];
  threads = [];
  for (const step of plan) {
    const made = await visitorThread(key, { agent: agentId, ...step });
    if (step.ticket) await setTicket(made.id, step.ticket);
    threads.push({
      ...made,
      words: step.words,
      feedback: step.rating ? [step.rating] : [],
      ticket: step.ticket ?? null,
    });
  }
  const hello = threads[3]!;
  const linked = await hello.visitor.post('/api/v1/widget/identify', {
    user_id: 'customer-7',
    user_hash: userHash(widgetKey.identity_secret, 'customer-7'),
    name: 'Grace',
    email: 'grace@shop.example',
  });
  expect(linked.status, linked.raw).toBe(200);
  identified = { threadId: hello.id, widgetUser: linked.body.widget_user };
}, 120_000);
afterAll(() => context.close());

const newestFirst = (items: Fixture[]) => [...items].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
const ids = (response: Response) => (response.body as { id: string }[]).map((thread) => thread.id);

function get(path: string, query: Record<string, string | number> = {}, api: Api = admin) {
  const search = new URLSearchParams(
    Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]),
  );
  return api.get(`/api/v1/chat/${agentId}/${path}${search.size > 0 ? `?${search}` : ''}`);
}

interface Filter {
  q?: string[];
  feedback?: 'positive' | 'negative' | 'any';
  ticket?: 'converted' | 'chat_only';
  from?: string;
  to?: string;
  sort?: 'newest' | 'oldest';
}

/** What the search should answer, from the fixture alone. */
function expectedIds(filter: Filter): string[] {
  const kept = threads.filter(
    (thread) =>
      (filter.q === undefined || filter.q.some((word) => thread.words.includes(word))) &&
      (filter.feedback === undefined ||
        (filter.feedback === 'any' ? thread.feedback.length > 0 : thread.feedback.includes(filter.feedback))) &&
      (filter.ticket === undefined || (filter.ticket === 'converted') === (thread.ticket !== null)) &&
      (filter.from === undefined || thread.created_at >= filter.from) &&
      (filter.to === undefined || thread.created_at <= filter.to),
  );
  const ordered = newestFirst(kept).map((thread) => thread.id);
  return filter.sort === 'oldest' ? ordered.reverse() : ordered;
}

function search(filter: Filter, page: Record<string, string | number> = {}) {
  const { q, ...rest } = filter;
  return get('web-threads/search', { ...(q ? { q: q.join(' ') } : {}), ...rest, ...page });
}

describe('GET /api/v1/chat/{agent_id}/web-threads', () => {
  it('lists only the agent’s visitors’ threads, newest first, as ChatThread with their messages', async () => {
    const response = await get('web-threads');
    expect(response.status, response.raw).toBe(200);
    expect(ids(response)).toEqual(newestFirst(threads).map((thread) => thread.id));
    expect(ids(response)).not.toContain(staffThreadId);
    expect(ids(response)).not.toContain(otherAgentThreadId);
    const first = response.body[0];
    expect(first.user_id).toBeNull();
    expect(first.anon_user_id).toEqual(expect.any(String));
    // Exactly the thread as GET …/threads/{thread_id} shows it: the ChatThread fields, the same messages.
    const own = await admin.get(`/api/v1/chat/${agentId}/threads/${first.id}`);
    expect(first).toEqual(own.body);
    expect(first.messages.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
    const bare = await get('web-threads', { include_messages: 'false', limit: 2 });
    expect(bare.body.map((thread: { messages: unknown[] }) => thread.messages)).toEqual([[], []]);
  });
});

describe('GET /api/v1/chat/{agent_id}/web-threads/enhanced', () => {
  it('adds widget user, message count and ticket fields, exactly', async () => {
    const response = await get('web-threads/enhanced');
    expect(response.status, response.raw).toBe(200);
    expect(ids(response)).toEqual(newestFirst(threads).map((thread) => thread.id));
    const plain = await get('web-threads');
    for (const [index, thread] of response.body.entries()) {
      const fixture = threads.find((candidate) => candidate.id === thread.id)!;
      expect(thread).toEqual({
        ...plain.body[index],
        widget_user: thread.id === identified.threadId ? identified.widgetUser : null,
        message_count: 2,
        ticket_id: fixture.ticket,
        chat_history_parent_comment_id: fixture.ticket === null ? null : `comment-${fixture.ticket}`,
        connected_to_platform: fixture.ticket !== null,
      });
    }
    expect(identified.widgetUser).toMatchObject({
      user_name: 'Grace',
      user_email: 'grace@shop.example',
      verified: true,
    });
  });

  it('counts messages as they are added, and PATCH clears ticket fields with null', async () => {
    const target = threads[0]!;
    await setTicket(target.id, 'TCK-TEMP');
    const added = await target.visitor.post(`/api/v1/chat/${agentId}/threads/${target.id}/messages`, {
      role: 'user',
      content: 'One more question',
    });
    expect(added.status).toBe(200);
    const find = async () =>
      ((await get('web-threads/enhanced')).body as { id: string }[]).find((thread) => thread.id === target.id);
    expect(await find()).toMatchObject({ message_count: 4, ticket_id: 'TCK-TEMP', connected_to_platform: true });
    const cleared = await admin.patch(`/api/v1/chat/${agentId}/threads/${target.id}`, {
      ticket_id: null,
      chat_history_parent_comment_id: null,
      connected_to_platform: false,
    });
    expect(cleared.status, cleared.raw).toBe(200);
    expect(await find()).toMatchObject({
      message_count: 4,
      ticket_id: null,
      chat_history_parent_comment_id: null,
      connected_to_platform: false,
    });
    // The rest of the fixture is as it was: the two extra messages only raise the count.
    const other = await admin.patch(`/api/v1/chat/${agentId}/threads/${target.id}`, { title: 'Renamed' });
    expect(other.body.title).toBe('Renamed');
    expect(await find()).toMatchObject({ ticket_id: null, title: 'Renamed' });
  });

  it('refuses bad ticket fields with 422 and changes nothing; a visitor may not set them', async () => {
    const target = threads[1]!;
    const before = await dumpDatabase(context);
    for (const [field, value, type] of [
      ['ticket_id', 'x'.repeat(256), 'string_too_long'],
      ['ticket_id', '', 'string_too_short'],
      ['ticket_id', 42, 'string_type'],
      ['chat_history_parent_comment_id', 'y'.repeat(256), 'string_too_long'],
      ['connected_to_platform', 'yes', 'bool_type'],
      ['connected_to_platform', null, 'bool_type'],
    ] as const) {
      const response = await admin.patch(`/api/v1/chat/${agentId}/threads/${target.id}`, { [field]: value });
      expect(response.status, `${field} ${JSON.stringify(value)}`).toBe(422);
      expect(response.body).toMatchObject({ code: 'validation_error' });
      expect(response.body.detail).toEqual([expect.objectContaining({ loc: ['body', field], type })]);
    }
    expectError(
      await target.visitor.request('PATCH', `/api/v1/chat/${agentId}/threads/${target.id}`, { ticket_id: 'MINE' }),
      403,
      'insufficient_scope',
    );
    expect(await dumpDatabase(context)).toEqual(before);
    const longest = await admin.patch(`/api/v1/chat/${agentId}/threads/${target.id}`, { ticket_id: 'T'.repeat(255) });
    expect(longest.status).toBe(200);
    await setTicket(target.id, 'TCK-2');
  });
});

describe('GET /api/v1/chat/{agent_id}/web-threads/search', () => {
  const from = () => threads[1]!.created_at;
  const to = () => threads[4]!.created_at;

  it('with no filter is the enhanced list', async () => {
    const response = await search({});
    expect(response.status, response.raw).toBe(200);
    expect(response.body).toEqual((await get('web-threads/enhanced', { limit: 20 })).body);
  });

  it('applies each filter alone', async () => {
    const filters: Filter[] = [
      { q: ['invoice'] },
      { q: ['parcel'] },
      { q: ['damaged', 'copy'] },
      { q: ['zebra'] },
      { feedback: 'positive' },
      { feedback: 'negative' },
      { feedback: 'any' },
      { ticket: 'converted' },
      { ticket: 'chat_only' },
      { from: from() },
      { to: to() },
      { sort: 'oldest' },
      { sort: 'newest' },
    ];
    for (const filter of filters) {
      const response = await search(filter);
      expect(response.status, JSON.stringify(filter)).toBe(200);
      expect(ids(response), JSON.stringify(filter)).toEqual(expectedIds(filter));
    }
    // The fixture makes every one of them narrow: none is the whole list or trivially empty.
    expect(expectedIds({ q: ['invoice'] })).toHaveLength(3);
    expect(expectedIds({ feedback: 'positive' })).toHaveLength(2);
    expect(expectedIds({ ticket: 'converted' })).toHaveLength(3);
  });

  it('combines every filter: q × feedback × ticket × date range × sort', async () => {
    const qs = [undefined, ['invoice'], ['parcel']];
    const feedbacks = [undefined, 'positive', 'negative', 'any'] as const;
    const tickets = [undefined, 'converted', 'chat_only'] as const;
    const ranges = [{}, { from: from(), to: to() }, { from: threads[5]!.created_at }];
    let nonEmpty = 0;
    for (const q of qs)
      for (const feedback of feedbacks)
        for (const ticket of tickets)
          for (const range of ranges)
            for (const sort of ['newest', 'oldest'] as const) {
              const filter: Filter = {
                ...(q ? { q } : {}),
                ...(feedback ? { feedback } : {}),
                ...(ticket ? { ticket } : {}),
                ...range,
                sort,
              };
              const expected = expectedIds(filter);
              if (expected.length > 0) nonEmpty += 1;
              expect(ids(await search(filter)), JSON.stringify(filter)).toEqual(expected);
            }
    expect(nonEmpty).toBeGreaterThan(60);
  });

  it('takes the date range in any offset, as UTC', async () => {
    const start = new Date(threads[2]!.created_at);
    const shifted = new Date(start.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    const response = await search({ from: shifted, sort: 'oldest' });
    expect(ids(response)).toEqual(expectedIds({ from: threads[2]!.created_at, sort: 'oldest' }));
  });

  it('pages by offset and by cursor alike, in both orders and with filters', async () => {
    for (const filter of [
      {},
      { sort: 'oldest' },
      { q: ['invoice', 'parcel'] },
      { feedback: 'any', sort: 'oldest' },
    ] as Filter[]) {
      const all = expectedIds(filter);
      const byOffset: string[][] = [];
      for (let offset = 0; offset < all.length; offset += 2)
        byOffset.push(ids(await search(filter, { limit: 2, offset })));
      const byCursor: string[][] = [];
      let page = ids(await search(filter, { limit: 2 }));
      while (page.length > 0) {
        byCursor.push(page);
        page = ids(await search(filter, { limit: 2, after: page.at(-1)! }));
      }
      expect(byOffset.flat(), JSON.stringify(filter)).toEqual(all);
      expect(byCursor, JSON.stringify(filter)).toEqual(byOffset);
      // before: back from the last page gives the one before it.
      if (byCursor.length > 1) {
        const last = byCursor.at(-1)!;
        expect(ids(await search(filter, { limit: 2, before: last[0]! }))).toEqual(byCursor.at(-2));
      }
    }
    // The plain lists page the same way.
    const first = ids(await get('web-threads', { limit: 3 }));
    const next = ids(await get('web-threads/enhanced', { limit: 3, after: first.at(-1)! }));
    expect([...first, ...next]).toEqual(newestFirst(threads).map((thread) => thread.id));
    expect(ids(await get('web-threads', { limit: 3, offset: 3 }))).toEqual(next);
  });

  it('takes as a cursor any web thread of the agent, even one the filter leaves out', async () => {
    const outside = threads[3]!; // no words, no rating, no ticket
    const response = await search({ q: ['invoice'] }, { after: outside.id });
    const older = expectedIds({ q: ['invoice'] }).filter(
      (id) => threads.find((thread) => thread.id === id)!.created_at < outside.created_at,
    );
    expect(ids(response)).toEqual(older);
  });
});

describe('refusals', () => {
  it('answers bad parameters 422 in the documented shape', async () => {
    const cases: [Record<string, string>, (string | number)[], string][] = [
      [{ feedback: 'great' }, ['query', 'feedback'], 'enum'],
      [{ ticket: 'open' }, ['query', 'ticket'], 'enum'],
      [{ sort: 'relevance' }, ['query', 'sort'], 'enum'],
      [{ from: 'yesterday' }, ['query', 'from'], 'datetime_parsing'],
      [{ to: '2025-13-01T00:00:00Z' }, ['query', 'to'], 'datetime_parsing'],
      [{ limit: '0' }, ['query', 'limit'], 'greater_than_equal'],
      [{ limit: '101' }, ['query', 'limit'], 'less_than_equal'],
      [{ offset: '-1' }, ['query', 'offset'], 'greater_than_equal'],
      [{ q: '' }, ['query', 'q'], 'string_too_short'],
      [{ q: 'x'.repeat(501) }, ['query', 'q'], 'string_too_long'],
      [{ q: 'the and of' }, ['query', 'q'], 'value_error'],
      [{ after: 'not-a-uuid' }, ['query', 'after'], 'uuid_parsing'],
      [{ after: threads[0]!.id, before: threads[1]!.id }, ['query', 'before'], 'value_error'],
      [{ after: threads[0]!.id, offset: '2' }, ['query', 'offset'], 'value_error'],
      [{ after: staffThreadId }, ['query', 'after'], 'value_error'],
      [{ before: otherAgentThreadId }, ['query', 'before'], 'value_error'],
      [{ from: threads[3]!.created_at, to: threads[1]!.created_at }, ['query', 'to'], 'value_error'],
    ];
    for (const [query, loc, type] of cases) {
      const response = await get('web-threads/search', query);
      expect(response.status, JSON.stringify(query)).toBe(422);
      expect(response.body, JSON.stringify(query)).toEqual({
        detail: [{ loc, msg: expect.any(String), type }],
        code: 'validation_error',
        request_id: response.headers['x-request-id'],
      });
    }
    for (const path of ['web-threads', 'web-threads/enhanced']) {
      expect((await get(path, { after: staffThreadId })).status).toBe(422);
      expect((await get(path, { limit: 101 })).status).toBe(422);
    }
  });

  it('answers another organisation 404 agent_not_found, and a visitor 403', async () => {
    const stranger = client(context, (await context.newOrganization()).key);
    const visitor = threads[0]!.visitor;
    for (const path of ['web-threads', 'web-threads/enhanced', 'web-threads/search']) {
      expectError(await get(path, {}, stranger), 404, 'agent_not_found', path);
      expectError(await get(path, { q: 'invoice' }, stranger), 404, 'agent_not_found', path);
      expectError(await visitor.get(`/api/v1/chat/${agentId}/${path}`), 403, 'insufficient_scope', path);
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents the three routes with their query parameters, marked as extensions', async () => {
    const spec = (await context.parley.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = (path: string) => spec.paths[`/api/v1/chat/{agent_id}/${path}`].get;
    expect(operation('web-threads').operationId).toBe('listWebChatThreads');
    expect(operation('web-threads')['x-parley-extension']).toBeUndefined();
    expect(operation('web-threads/enhanced').responses['200'].content['application/json'].schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/EnhancedWebThread' },
    });
    const parameters = Object.fromEntries(
      operation('web-threads/search').parameters.map((parameter: any) => [parameter.name, parameter]),
    );
    expect(Object.keys(parameters).sort()).toEqual([
      'after',
      'agent_id',
      'before',
      'feedback',
      'from',
      'include_messages',
      'limit',
      'offset',
      'q',
      'sort',
      'ticket',
      'to',
    ]);
    for (const [name, parameter] of Object.entries<any>(parameters)) {
      if (name === 'agent_id') continue;
      expect(parameter, name).toMatchObject({
        in: 'query',
        'x-parley-extension': true,
        description: expect.any(String),
      });
      expect(parameter.schema['x-parley-extension'], name).toBeUndefined();
    }
    expect(parameters.feedback.schema.enum).toEqual(['positive', 'negative', 'any']);
    expect(parameters.ticket.schema.enum).toEqual(['converted', 'chat_only']);
    expect(parameters.sort.schema).toMatchObject({ enum: ['newest', 'oldest'], default: 'newest' });
    expect(parameters.limit.schema).toMatchObject({ default: 20, maximum: 100 });
    expect(parameters.agent_id['x-parley-extension']).toBeUndefined();
    expect(spec.components.schemas.EnhancedWebThread.properties.widget_user).toEqual({
      anyOf: [{ $ref: '#/components/schemas/WidgetUser' }, { type: 'null' }],
    });
  });
});
