import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, seedMessage, type Api, type TestContext } from '../helpers/harness.js';

/**
 * Cursor pagination (docs/api.md, "Cursor pagination"): `before`/`after` on the thread list and
 * the message list give the pages offsets give, and a cursor that is not an item of the list is
 * a 422 on the parameter, whoever owns the id.
 */
let context: TestContext;
let api: Api;
let organizationId: string;
let agentId: string;
let threadIds: string[];
let messageThreadId: string;
let otherThreadId: string;

beforeAll(async () => {
  context = await createTestContext();
  const organization = await context.newOrganization();
  organizationId = organization.organizationId;
  api = client(context, organization.key);
  agentId = (await api.createAgent()).id;
  threadIds = [];
  for (let index = 0; index < 7; index += 1) threadIds.push((await api.createThread(agentId)).id);
  messageThreadId = threadIds[0]!;
  otherThreadId = threadIds[1]!;
  // Ties on created_at are ordered by id: some messages share their millisecond.
  for (let index = 0; index < 11; index += 1) {
    await seedMessage(context, {
      organizationId,
      threadId: messageThreadId,
      content: `message ${index}`,
      createdAt: `2025-01-01T00:00:0${Math.floor(index / 3)}.000Z`,
    });
  }
  await seedMessage(context, { organizationId, threadId: otherThreadId, content: 'elsewhere' });
});
afterAll(async () => {
  await context.close();
});

const ids = (body: { id: string }[]) => body.map((item) => item.id);

async function ids200(url: string): Promise<string[]> {
  const response = await api.get(url);
  expect(response.status, url).toBe(200);
  return ids(response.body);
}

describe.each([
  { list: 'threads', url: () => `/api/v1/chat/${agentId}/threads?include_messages=false` },
  { list: 'messages', url: () => `/api/v1/chat/${agentId}/threads/${messageThreadId}/messages?` },
])('cursor pages of the $list list', ({ url }) => {
  it('walks forward with after and back with before through the same pages as offsets', async () => {
    const all = await ids200(`${url()}&limit=100`);
    expect(all.length).toBeGreaterThanOrEqual(7);
    const offsetPages: string[][] = [];
    for (let offset = 0; offset < all.length; offset += 3)
      offsetPages.push(await ids200(`${url()}&limit=3&offset=${offset}`));

    const cursorPages: string[][] = [await ids200(`${url()}&limit=3`)];
    while (cursorPages.at(-1)!.length === 3) {
      const page = await ids200(`${url()}&limit=3&after=${cursorPages.at(-1)!.at(-1)}`);
      if (page.length === 0) break;
      cursorPages.push(page);
    }
    expect(cursorPages).toEqual(offsetPages);
    expect(cursorPages.flat()).toEqual(all);

    // Back from the last page: each `before` page is the page before it, in list order.
    for (let index = cursorPages.length - 1; index > 0; index -= 1) {
      const previous = await ids200(`${url()}&limit=3&before=${cursorPages[index]![0]}`);
      expect(previous).toEqual(cursorPages[index - 1]);
    }
    expect(await ids200(`${url()}&limit=3&before=${all[0]}`)).toEqual([]);
    expect(await ids200(`${url()}&limit=3&after=${all.at(-1)}`)).toEqual([]);
    // A partial page before an item near the start holds only what precedes it.
    expect(await ids200(`${url()}&limit=3&before=${all[2]}`)).toEqual(all.slice(0, 2));
  });
});

describe('a cursor that is not an item of the list', () => {
  it('is answered 422 at the parameter: unknown, another list’s or another organisation’s id', async () => {
    const stranger = await context.newOrganization();
    const strangerApi = client(context, stranger.key);
    const strangerAgent = (await strangerApi.createAgent()).id;
    const strangerThread = (await strangerApi.createThread(strangerAgent)).id;
    const strangerMessage = await seedMessage(context, {
      organizationId: stranger.organizationId,
      threadId: strangerThread,
      content: 'theirs',
    });
    const elsewhere = (await api.get(`/api/v1/chat/${agentId}/threads/${otherThreadId}/messages`)).body[0].id;
    const threadList = `/api/v1/chat/${agentId}/threads`;
    const messageList = `/api/v1/chat/${agentId}/threads/${messageThreadId}/messages`;
    const cases = [
      { url: `${threadList}?after=0190f2f4-0000-7000-8000-000000000000`, loc: 'after' },
      { url: `${threadList}?before=${strangerThread}`, loc: 'before' },
      { url: `${threadList}?after=${elsewhere}`, loc: 'after' },
      { url: `${messageList}?after=${elsewhere}`, loc: 'after' },
      { url: `${messageList}?before=${strangerMessage}`, loc: 'before' },
      { url: `${messageList}?after=${messageThreadId}`, loc: 'after' },
    ];
    for (const { url, loc } of cases) {
      const response = await api.get(url);
      expect(response.status, url).toBe(422);
      expect(response.body, url).toMatchObject({
        code: 'validation_error',
        detail: [{ loc: ['query', loc], msg: `${loc} is not the id of an item of this list`, type: 'value_error' }],
      });
    }
  });

  it('is refused with both before and after, with an offset, or when it is not a UUID', async () => {
    const [first, second] = await ids200(`/api/v1/chat/${agentId}/threads?include_messages=false`);
    const list = `/api/v1/chat/${agentId}/threads`;
    const both = await api.get(`${list}?before=${first}&after=${second}`);
    expect(both.status).toBe(422);
    expect(both.body.detail).toEqual([
      { loc: ['query', 'before'], msg: 'give before or after, not both', type: 'value_error' },
    ]);
    const withOffset = await api.get(`${list}?after=${first}&offset=1`);
    expect(withOffset.status).toBe(422);
    expect(withOffset.body.detail[0].loc).toEqual(['query', 'offset']);
    const malformed = await api.get(`${list}?after=not-a-uuid`);
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].loc).toEqual(['query', 'after']);
  });
});
