import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NewThread } from '../../src/domain/models.js';
import { newId } from '../../src/ids.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { createTestDatabase, POSTGRES_CONFIGURED, type TestDatabase } from '../helpers/test-database.js';
import { agentInput, threadInput } from './contract/fixtures.js';

/**
 * On PostgreSQL the thread creates of one group-commit batch share one INSERT … SELECT (unnest),
 * and their reads of the webhook endpoints one SELECT (ADR 0033, amendment): each create is still
 * answered for its own row, with its own organisation's endpoints, and the tenant check (the
 * agent must be of the thread's organisation) is still inside the statement.
 */
let database: TestDatabase;
let store: Store;
let observer: pg.Client;
const now = '2026-12-03T19:00:00.000Z';
const organizations = [newId(), newId()];
const agents = organizations.map((organizationId) => agentInput(organizationId));
let hookIds: string[] = [];

/** The SQL texts the store's clients sent, while `work` ran. */
async function statementsDuring<T>(work: () => Promise<T>): Promise<{ result: T; texts: string[] }> {
  const texts: string[] = [];
  const original = pg.Client.prototype.query;
  const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text?: string };
    texts.push(typeof config === 'string' ? config : (config.text ?? ''));
    return (original as (...rest: unknown[]) => unknown).apply(this, args);
  } as typeof original);
  try {
    return { result: await work(), texts };
  } finally {
    spy.mockRestore();
  }
}

function create(thread: NewThread) {
  return store.write(async (writers) => {
    const [inserted, endpoints] = await Promise.all([
      writers.threads.insert(thread),
      writers.webhooks.enabledSubscriptions(thread.organization_id),
    ]);
    return { inserted: inserted?.id ?? null, endpoints: endpoints.map((endpoint) => endpoint.id) };
  });
}

async function committedThreadIds(): Promise<string[]> {
  const { rows } = await observer.query<{ id: string }>('select id from chat_threads order by id');
  return rows.map((row) => row.id);
}

if (POSTGRES_CONFIGURED) {
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    store = await openStore(database.target);
    const connectionString = database.target.kind === 'postgres' ? database.target.connectionString : '';
    observer = new pg.Client({ connectionString });
    await observer.connect();
    hookIds = [newId(), newId()];
    await store.write(async (writers) => {
      for (const [index, organizationId] of organizations.entries()) {
        await writers.organizations.ensure({ id: organizationId, name: `batched-${organizationId}`, now });
        await writers.agents.insert(agents[index]!);
      }
      // The first organisation has one enabled endpoint; the second none.
      const [hook] = hookIds;
      await writers.webhooks.insert({
        id: hook!,
        organization_id: organizations[0]!,
        url: 'https://hooks.example.test/',
        description: '',
        events: ['thread.created'],
        secret: 'psb1.x',
        now,
      });
    });
  });

  afterEach(async () => {
    await observer.query('delete from chat_threads');
  });

  afterAll(async () => {
    await observer.end();
    await store.close();
    await database.destroy();
  });

  describe('thread creates batched on PostgreSQL', () => {
    it('sends one insert and one endpoint read for the whole batch, each create answered for its own row', async () => {
      const threads = Array.from({ length: 20 }, (_, index) => {
        const at = index % 2;
        return threadInput({ organizationId: organizations[at]!, agentId: agents[at]!.id });
      });
      const { result, texts } = await statementsDuring(() => Promise.all(threads.map((thread) => create(thread))));
      expect(result).toEqual(
        threads.map((thread) => ({
          inserted: thread.id,
          endpoints: thread.organization_id === organizations[0] ? [hookIds[0]] : [],
        })),
      );
      expect(texts.filter((text) => /^insert into chat_threads .* unnest\(/.test(text))).toHaveLength(1);
      expect(texts.filter((text) => /from webhooks where organization_id = any/.test(text))).toHaveLength(1);
      expect(texts.filter((text) => text.startsWith('insert into "chat_threads"'))).toHaveLength(0);
      expect(await committedThreadIds()).toEqual(threads.map((thread) => thread.id).sort());
    });

    it('inserts nothing for a row whose agent is of another organisation; the rest of the batch commits', async () => {
      const good = [0, 1, 2].map(() => threadInput({ organizationId: organizations[0]!, agentId: agents[0]!.id }));
      // The second organisation's agent, claimed for the first organisation: the join finds no agent.
      const foreign = threadInput({ organizationId: organizations[0]!, agentId: agents[1]!.id });
      const batch = [good[0]!, foreign, good[1]!, good[2]!];
      const results = await Promise.all(batch.map((thread) => create(thread)));
      expect(results.map((result) => result.inserted)).toEqual([good[0]!.id, null, good[1]!.id, good[2]!.id]);
      expect(await committedThreadIds()).toEqual(good.map((thread) => thread.id).sort());
    });

    it('fails only the create whose row breaks a constraint; the others are committed and answered', async () => {
      const existing = threadInput({ organizationId: organizations[1]!, agentId: agents[1]!.id });
      await create(existing);
      const fresh = [0, 1, 2].map(() => threadInput({ organizationId: organizations[1]!, agentId: agents[1]!.id }));
      const duplicate = {
        ...threadInput({ organizationId: organizations[1]!, agentId: agents[1]!.id }),
        id: existing.id,
      };
      const settled = await Promise.allSettled(
        [fresh[0]!, duplicate, fresh[1]!, fresh[2]!].map((thread) => create(thread)),
      );
      expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      expect(await committedThreadIds()).toEqual([existing.id, ...fresh.map((thread) => thread.id)].sort());
    });

    it('runs a lone create as its own single statement', async () => {
      const thread = threadInput({ organizationId: organizations[1]!, agentId: agents[1]!.id });
      const { result, texts } = await statementsDuring(() => create(thread));
      expect(result).toEqual({ inserted: thread.id, endpoints: [] });
      expect(texts.filter((text) => text.includes('unnest('))).toHaveLength(0);
      expect(texts.filter((text) => text.startsWith('insert into "chat_threads"'))).toHaveLength(1);
    });
  });
}
