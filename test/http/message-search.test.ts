import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, seedMessage, type Api, type TestContext } from '../helpers/harness.js';
import { TEST_DIALECT } from '../helpers/test-database.js';

/**
 * Message search (docs/search.md) on the test dialect (SQLite; PostgreSQL with
 * PARLEY_TEST_DATABASE=postgres): natural-language words with stemming, ranking, escaped
 * snippets, agent and organisation scope, and the index kept in step with every write.
 */
let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context.close();
});

async function setup() {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const agent = await api.createAgent();
  const thread = await api.createThread(agent.id, { title: 'Billing' });
  const seed = (content: string, options: { threadId?: string; role?: string; createdAt?: string } = {}) =>
    seedMessage(context, {
      organizationId: organization.organizationId,
      threadId: options.threadId ?? thread.id,
      content,
      ...(options.role === undefined ? {} : { role: options.role }),
      ...(options.createdAt === undefined ? {} : { createdAt: options.createdAt }),
    });
  return { organization, api, agent, thread, seed };
}

function searchMessages(api: Api, query: Record<string, string>) {
  return api.get(`/api/v1/search/messages?${new URLSearchParams(query)}`);
}

function searchThreads(api: Api, agentId: string, query: Record<string, string>) {
  return api.get(`/api/v1/chat/${agentId}/threads/search?${new URLSearchParams(query)}`);
}

/** On SQLite, FTS5's own check that the index equals its external content (the messages). */
function expectSqliteIndexInStep(): void {
  if (TEST_DIALECT !== 'sqlite' || context.database.target.kind !== 'sqlite') return;
  const connection = new Database(context.database.target.filename);
  try {
    connection.pragma('busy_timeout = 5000');
    expect(() =>
      connection.prepare(`insert into chat_messages_fts (chat_messages_fts, rank) values ('integrity-check', 1)`).run(),
    ).not.toThrow();
  } finally {
    connection.close();
  }
}

describe('GET /api/v1/search/messages', () => {
  it('finds messages by the stemmed words of a natural-language query, with marked snippets', async () => {
    const { api, agent, thread, seed } = await setup();
    const runs = await seed('She runs the warehouse every morning.', { createdAt: '2025-03-01T10:00:00.000Z' });
    await seed('Nothing to see here.');
    const response = await searchMessages(api, { q: 'who is running the warehouses?' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual([
      {
        message_id: runs,
        thread_id: thread.id,
        agent_id: agent.id,
        role: 'user',
        snippet: 'She <mark>runs</mark> the <mark>warehouse</mark> every morning.',
        created_at: '2025-03-01T10:00:00.000Z',
        rank: expect.any(Number),
      },
    ]);
    expect(response.body[0].rank).toBeGreaterThan(0);
    expect(response.body[0].rank).toBeLessThan(1);
  });

  it('ranks a message with more of the words first', async () => {
    const { api, seed } = await setup();
    const one = await seed('A refund was asked for.');
    const both = await seed('The refund for the invoice is on its way.');
    const other = await seed('The invoice is overdue.');
    const response = await searchMessages(api, { q: 'refund invoice' });
    expect(response.status).toBe(200);
    expect(response.body[0].message_id).toBe(both);
    expect(response.body.map((hit: { message_id: string }) => hit.message_id).sort()).toEqual(
      [one, both, other].sort(),
    );
    const ranks = response.body.map((hit: { rank: number }) => hit.rank);
    expect([...ranks].sort((left, right) => right - left)).toEqual(ranks);
  });

  it('escapes the message text in snippets: markup in a message never comes back as markup', async () => {
    const { api, seed } = await setup();
    // PostgreSQL's parser reads `<script>` as a tag, not a word: the query is about the invoice.
    const script = await seed(`<script>alert("pwned")</script> & the 'invoice' <b>total</b>`);
    const forged = await seed('</mark><img src=x onerror=alert(1)> invoice <mark>forged</mark>');
    // A text holding the private-use markers is shown without highlights, still escaped.
    const markers = await seed('invoice \uE000<i>\uE001 markers');
    const response = await searchMessages(api, { q: 'invoice' });
    expect(response.status).toBe(200);
    const snippets = new Map(
      response.body.map((hit: { message_id: string; snippet: string }) => [hit.message_id, hit.snippet]),
    );
    expect(snippets).toEqual(
      new Map([
        [
          script,
          '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; the &#39;<mark>invoice</mark>&#39; &lt;b&gt;total&lt;/b&gt;',
        ],
        [
          forged,
          '&lt;/mark&gt;&lt;img src=x onerror=alert(1)&gt; <mark>invoice</mark> &lt;mark&gt;forged&lt;/mark&gt;',
        ],
        [markers, 'invoice \uE000&lt;i&gt;\uE001 markers'],
      ]),
    );
  });

  it('shows a window of a long message around its first match', async () => {
    const { api, seed } = await setup();
    const filler = 'lorem ipsum dolor sit amet '.repeat(20);
    await seed(`${filler}the parcel arrived damaged ${filler}`);
    const [hit] = (await searchMessages(api, { q: 'parcel' })).body;
    expect(hit.snippet.startsWith('…')).toBe(true);
    expect(hit.snippet.endsWith('…')).toBe(true);
    expect(hit.snippet).toContain('the <mark>parcel</mark> arrived damaged');
    expect(hit.snippet.length).toBeLessThan(260);
  });

  it('filters by agent and role, pages with limit and offset, and keeps to the organisation', async () => {
    const { api, agent, organization, seed } = await setup();
    const otherAgent = await api.createAgent({ name: 'Other agent' });
    const otherThread = await api.createThread(otherAgent.id);
    const question = await seed('Where is the lighthouse?', { role: 'user' });
    const answer = await seed('The lighthouse is north.', { role: 'assistant' });
    const elsewhere = await seed('A lighthouse again.', { threadId: otherThread.id });

    const ids = async (query: Record<string, string>) =>
      (await searchMessages(api, { q: 'lighthouse', ...query })).body.map(
        (hit: { message_id: string }) => hit.message_id,
      );
    expect((await ids({})).sort()).toEqual([question, answer, elsewhere].sort());
    expect((await ids({ agent_id: agent.id })).sort()).toEqual([question, answer].sort());
    expect(await ids({ agent_id: agent.id, role: 'assistant' })).toEqual([answer]);
    const all = await ids({});
    expect([...(await ids({ limit: '2' })), ...(await ids({ limit: '2', offset: '2' }))]).toEqual(all);

    const stranger = await setup();
    await stranger.seed('My own lighthouse.');
    const theirs = await searchMessages(stranger.api, { q: 'lighthouse' });
    expect(theirs.body).toHaveLength(1);
    expect(JSON.stringify(theirs.body)).not.toContain(organization.organizationId);
    expect((await searchMessages(stranger.api, { q: 'lighthouse', agent_id: agent.id })).body).toEqual([]);
  });

  it('refuses an empty, too long or wordless q with 422 at ["query","q"]', async () => {
    const { api } = await setup();
    for (const q of ['', 'x'.repeat(501), '?!* "" -- ()', 'the and of']) {
      const response = await searchMessages(api, { q });
      expect(response.status, JSON.stringify(q)).toBe(422);
      expect(response.body.code).toBe('validation_error');
      expect(response.body.detail[0].loc).toEqual(['query', 'q']);
    }
    expect((await searchMessages(api, { q: 'x'.repeat(500) })).status).toBe(200);
    expect((await api.get('/api/v1/search/messages')).status).toBe(422);
    expect((await searchMessages(api, { q: 'hello', role: 'robot' })).status).toBe(422);
  });

  it('treats full-text syntax in q as words, never as an error', async () => {
    const { api, seed } = await setup();
    const id = await seed('Ship NEAR the harbour, column: blue');
    for (const q of ['harbour NEAR/2 ship', 'content: blue*', '"harbour" OR (ship', '-ship ^harbour']) {
      const response = await searchMessages(api, { q });
      expect(response.status, q).toBe(200);
      expect(response.body.map((hit: { message_id: string }) => hit.message_id)).toEqual([id]);
    }
  });
});

describe('GET /api/v1/chat/{agent_id}/threads/search', () => {
  it("answers the agent's matching threads best first, each with its matching messages' snippets", async () => {
    const { api, agent, thread, seed } = await setup();
    const second = await api.createThread(agent.id, { title: 'Shipping' });
    const otherAgent = await api.createAgent({ name: 'Other agent' });
    const foreign = await api.createThread(otherAgent.id);
    await seed('The invoice looks wrong.', { createdAt: '2025-03-01T10:00:00.000Z' });
    const best = await seed('Invoice corrected: the invoice total is now right.', {
      role: 'assistant',
      createdAt: '2025-03-01T10:01:00.000Z',
    });
    const plain = await seed('Where is my parcel?', { threadId: second.id });
    const shipping = await seed('Your invoice ships with the parcel.', {
      threadId: second.id,
      role: 'assistant',
      createdAt: '2025-03-02T09:00:00.000Z',
    });
    await seed('Invoice invoice invoice total.', { threadId: foreign.id });

    const response = await searchThreads(api, agent.id, { q: 'invoice total' });
    expect(response.status).toBe(200);
    expect(response.body.map((hit: { thread: { id: string } }) => hit.thread.id)).toEqual([thread.id, second.id]);
    const [first, next] = response.body;
    expect(Object.keys(first.thread).sort()).toEqual(
      [
        'agent_id',
        'anon_user_id',
        'created_at',
        'id',
        'metadata',
        'organization_id',
        'title',
        'updated_at',
        'user_id',
      ].sort(),
    );
    expect(first.thread).toMatchObject({ id: thread.id, agent_id: agent.id, title: 'Billing' });
    expect(first.matches).toHaveLength(2);
    expect(first.matches[0]).toEqual({
      message_id: best,
      role: 'assistant',
      snippet: '<mark>Invoice</mark> corrected: the <mark>invoice</mark> <mark>total</mark> is now right.',
      created_at: '2025-03-01T10:01:00.000Z',
      rank: first.rank,
    });
    expect(next).toEqual({
      thread: expect.objectContaining({ id: second.id, title: 'Shipping' }),
      rank: expect.any(Number),
      matches: [
        {
          message_id: shipping,
          role: 'assistant',
          snippet: 'Your <mark>invoice</mark> ships with the parcel.',
          created_at: '2025-03-02T09:00:00.000Z',
          rank: next.rank,
        },
      ],
    });
    expect(first.rank).toBeGreaterThan(next.rank);
    expect(JSON.stringify(response.body)).not.toContain(plain);

    const paged = await searchThreads(api, agent.id, { q: 'invoice total', limit: '1', offset: '1' });
    expect(paged.body.map((hit: { thread: { id: string } }) => hit.thread.id)).toEqual([second.id]);
  });

  it('is not the thread route: /threads/search is never read as a thread id', async () => {
    const { api, agent } = await setup();
    const response = await searchThreads(api, agent.id, { q: 'gazebo' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual([]);
    expect((await api.get(`/api/v1/chat/${agent.id}/threads/search`)).status).toBe(422);
  });

  it("answers another organisation's agent 404, and finds none of its threads", async () => {
    const owner = await setup();
    await owner.seed('Confidential merger plans.');
    const stranger = await setup();
    const response = await searchThreads(stranger.api, owner.agent.id, { q: 'merger plans' });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ detail: 'Agent not found.', code: 'agent_not_found' });
    expect((await searchMessages(stranger.api, { q: 'merger plans' })).body).toEqual([]);
    expect((await searchThreads(owner.api, owner.agent.id, { q: 'merger plans' })).body).toHaveLength(1);
  });
});

describe('more matches than the search joins (the candidate cut)', () => {
  it('still finds what a filter keeps, and threads beyond a thread full of better matches', async () => {
    const { api, agent, thread, organization } = await setup();
    const otherAgent = await api.createAgent({ name: 'Noisy agent' });
    const noisyThread = await api.createThread(otherAgent.id);
    const crowdedThread = await api.createThread(agent.id);
    // 300 strong matches (more than the 256 candidates) ahead of the ones asked for.
    await context.store.write(async (writers) => {
      for (let index = 0; index < 300; index += 1) {
        for (const threadId of [noisyThread.id, crowdedThread.id]) {
          await writers.messages.insert({
            id: crypto.randomUUID(),
            organization_id: organization.organizationId,
            thread_id: threadId,
            role: 'assistant',
            content: `kestrel kestrel kestrel ${index}`,
            content_html: null,
            attachments: [],
            metadata: {},
            created_at: new Date().toISOString(),
          });
        }
      }
    });
    const quiet = await seedMessageIn(
      organization.organizationId,
      thread.id,
      'A kestrel was seen among many other birds over the long grey hills this morning.',
    );

    const filtered = await searchMessages(api, { q: 'kestrel', agent_id: agent.id, role: 'user' });
    expect(filtered.body.map((hit: { message_id: string }) => hit.message_id)).toEqual([quiet]);

    const threads = await searchThreads(api, agent.id, { q: 'kestrel' });
    expect(threads.body.map((hit: { thread: { id: string } }) => hit.thread.id)).toEqual([crowdedThread.id, thread.id]);
    expect(threads.body[0].matches).toHaveLength(3);
    expect(threads.body[1].matches.map((match: { message_id: string }) => match.message_id)).toEqual([quiet]);
  });
});

function seedMessageIn(organizationId: string, threadId: string, content: string): Promise<string> {
  return seedMessage(context, { organizationId, threadId, content });
}

describe('the message index stays in step', () => {
  it('with a message added through the API, a reply rewritten, a thread deleted and clear-all-chats', async () => {
    const { api, agent, thread, organization, seed } = await setup();
    const find = async (q: string) =>
      (await searchMessages(api, { q })).body.map((hit: { message_id: string }) => hit.message_id);

    const posted = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      content: 'The zeppelin lands at noon.',
      role: 'assistant',
    });
    expect(posted.status).toBe(200);
    expect(await find('zeppelin')).toEqual([posted.body.id]);

    // A reply's text is replaced when its run ends (run-messages-store finish): the index follows.
    const rewritten = await seed('Draft about a submarine.', { role: 'assistant' });
    await context.store.write((writers) =>
      writers.runMessages.finish({
        organizationId: organization.organizationId,
        messageId: rewritten,
        content: 'Final answer about a hovercraft.',
        contentHtml: '<p>Final answer about a hovercraft.</p>',
        metadata: {},
      }),
    );
    expect(await find('submarine')).toEqual([]);
    expect(await find('hovercraft')).toEqual([rewritten]);
    expectSqliteIndexInStep();

    const doomed = await api.createThread(agent.id);
    await seed('A gondola in the doomed thread.', { threadId: doomed.id });
    expect(await find('gondola')).toHaveLength(1);
    expect((await api.delete(`/api/v1/chat/${agent.id}/threads/${doomed.id}`)).status).toBe(204);
    expect(await find('gondola')).toEqual([]);
    expectSqliteIndexInStep();

    const other = await api.createAgent({ name: 'Kept agent' });
    const kept = await api.createThread(other.id);
    const keptId = await seed('A gondola that stays.', { threadId: kept.id });
    const cleared = await api.delete(`/api/v1/chat/clear-all-chats?agent_id=${agent.id}`);
    expect(cleared.status).toBe(200);
    expect(await find('zeppelin')).toEqual([]);
    expect(await find('hovercraft')).toEqual([]);
    expect(await find('gondola')).toEqual([keptId]);
    expect((await searchThreads(api, agent.id, { q: 'zeppelin hovercraft' })).body).toEqual([]);
    expectSqliteIndexInStep();
  });
});
