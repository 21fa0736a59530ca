import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkDocument } from '../../src/knowledge/chunk.js';
import { chunkRows } from '../../src/knowledge/chunk-rows.js';
import type { KnowledgeSearch } from '../../src/knowledge/knowledge-search.js';
import { StoredKnowledgeSearch } from '../../src/knowledge/stored-knowledge-search.js';
import { openDatabase, type DatabaseHandle } from '../../src/storage/kysely/database.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createAgentThread, createTestContext, type TestContext } from '../helpers/harness.js';
import { settledFile, uploadFile } from '../helpers/agent-files.js';
import { threadPath } from '../helpers/sse-client.js';

/**
 * The knowledge tool over the real chunk index (SQLite FTS5, or PostgreSQL's tsvector under
 * `npm run test:pg`): files and chunks of three agents in two organisations, and an agent's run
 * that only ever sees its own.
 */

const models = growingRegistry('knowledge-tool-stored');
let context: TestContext;
let rows: DatabaseHandle;
let stored: StoredKnowledgeSearch | undefined;
// The app is built before its store can be given to the search: the port reaches it through this.
const knowledge: KnowledgeSearch = { search: (input) => stored!.search(input) };
const NOW = new Date('2026-01-01T00:00:00.000Z');

beforeAll(async () => {
  context = await createTestContext({ models: models.registry, knowledge });
  stored = new StoredKnowledgeSearch({ store: context.store, embeddings: null });
  rows = openDatabase(context.database.target, { postgresPoolSize: 2 });
});
afterAll(async () => {
  await rows?.close();
  await context?.close();
});

/** A `ready` Markdown file of the agent whose one section is `text`; its file id and chunk ids. */
async function readyFile(input: {
  organizationId: string;
  agentId: string;
  name: string;
  text: string;
  status?: 'ready' | 'processing';
}): Promise<{ fileId: string; chunkIds: string[] }> {
  const fileId = randomUUID();
  const ready = (input.status ?? 'ready') === 'ready';
  await rows.write((db) =>
    db
      .insertInto('agent_files')
      .values({
        id: fileId,
        organization_id: input.organizationId,
        agent_id: input.agentId,
        name: input.name,
        source: 'upload',
        source_url: null,
        kind: 'markdown',
        mime_type: 'text/markdown',
        size: input.text.length,
        sha256: null,
        storage_key: `${input.organizationId}/${fileId}`,
        status: input.status ?? 'ready',
        error_message: null,
        metadata: '{}',
        ready_generation: ready ? 1 : 0,
        building_generation: 1,
        chunk_count: 1,
        text_bytes: input.text.length,
        indexed_at: ready ? NOW.toISOString() : null,
        created_at: NOW.toISOString(),
        updated_at: NOW.toISOString(),
      })
      .execute(),
  );
  const document = {
    title: null,
    pageCount: null,
    sections: [{ headingPath: ['Policies'], page: null, text: input.text }],
  };
  const chunks = await chunkRows({
    organizationId: input.organizationId,
    agentId: input.agentId,
    fileId,
    generation: 1,
    firstOrdinal: 0,
    chunks: chunkDocument(document, { targetTokens: 350, overlapTokens: 50 }),
    url: null,
    title: null,
    embeddings: null,
    newId: randomUUID,
    now: NOW,
  });
  await context.store.write((writers) => writers.fileChunks.insertMany(chunks));
  return { fileId, chunkIds: chunks.map((chunk) => chunk.id) };
}

describe('knowledge_base_search over the stored index', () => {
  it('finds the run’s own agent’s ready passages only, and the reply cites them', async () => {
    const model = models.script([
      callTools({ name: 'knowledge_base_search', input: { query: 'refunds' } }),
      say('Five days.'),
    ]);
    const own = await createAgentThread(context, { model: model.id, tools: ['knowledge_base_search'] });
    const organizationId = own.organization.organizationId;
    const sibling = await own.api.createAgent();
    const elsewhere = await createAgentThread(context, {});
    const text = 'Refunds are paid within five days of the request.';
    const mine = await readyFile({ organizationId, agentId: own.agent.id, name: 'refunds.md', text });
    await readyFile({
      organizationId,
      agentId: own.agent.id,
      name: 'draft.md',
      text: 'Refunds draft.',
      status: 'processing',
    });
    await readyFile({ organizationId, agentId: sibling.id, name: 'sibling.md', text: 'Refunds of the sibling agent.' });
    await readyFile({
      organizationId: elsewhere.organization.organizationId,
      agentId: elsewhere.agent.id,
      name: 'other.md',
      text: 'Refunds of another organisation.',
    });

    const reply = await client(context, own.organization.key).post(
      `${threadPath({ agentId: own.agent.id, threadId: own.thread.id })}/messages`,
      {
        content: 'How fast are refunds?',
        role: 'user',
      },
    );
    expect(reply.status).toBe(200);
    const results = reply.body.tool_calls[0].result.results;
    expect(results).toEqual([
      {
        file_id: mine.fileId,
        chunk_id: mine.chunkIds[0],
        title: 'refunds.md',
        page: null,
        url: null,
        heading_path: ['Policies'],
        text,
        similarity: expect.any(Number),
      },
    ]);
    expect(results[0].similarity).toBeGreaterThan(0);
    expect(results[0].similarity).toBeLessThanOrEqual(1);
    expect(reply.body.metadata.citations).toEqual([
      { file_id: mine.fileId, chunk_id: mine.chunkIds[0], title: 'refunds.md', page: null, text },
    ]);
  });
});

describe('knowledge_base_search over a file uploaded through the files API', () => {
  let own: TestContext;
  beforeAll(async () => {
    // The app's own knowledge base: the files API indexes, the tool searches the same index.
    own = await createTestContext({ models: models.registry });
  });
  afterAll(async () => {
    await own?.close();
  });

  it('cites the uploaded Markdown once it is ready', async () => {
    const model = models.script([
      callTools({ name: 'knowledge_base_search', input: { query: 'parental leave weeks' } }),
      say('Sixteen weeks.'),
    ]);
    const chat = await createAgentThread(own, { model: model.id, tools: ['knowledge_base_search'] });
    const key = chat.organization.key;
    const content = '# Leave\n\n## Parental leave\n\nParental leave is sixteen weeks, paid in full.\n';
    const uploaded = await uploadFile(own, { key, agentId: chat.agent.id, filename: 'leave.md', content });
    expect(uploaded.status).toBe(200);
    const file = await settledFile(own, { key, agentId: chat.agent.id, fileId: uploaded.body.id });
    expect(file.status).toBe('ready');

    const path = `${threadPath({ agentId: chat.agent.id, threadId: chat.thread.id })}/messages`;
    const reply = await client(own, key).post(path, { content: 'How long is parental leave?', role: 'user' });
    expect(reply.status).toBe(200);
    const [hit] = reply.body.tool_calls[0].result.results;
    expect(hit).toMatchObject({ file_id: file.id, title: 'leave.md', page: null, url: null });
    expect(hit.text).toContain('Parental leave is sixteen weeks, paid in full.');
    expect(reply.body.metadata.citations).toEqual([
      { file_id: file.id, chunk_id: hit.chunk_id, title: 'leave.md', page: null, text: hit.text },
    ]);
  });
});
