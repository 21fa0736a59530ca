import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/storage/kysely/executor.js';
import { PostgresGroupCommitWriter } from '../../src/storage/kysely/postgres-group-commit.js';
import { createTestDatabase, POSTGRES_CONFIGURED, type TestDatabase } from '../helpers/test-database.js';

/**
 * PostgresGroupCommitWriter on a real PostgreSQL database, with its pool set up as the server
 * sets it up (pipeline mode). An observer — a separate connection, as another process would
 * be — shows what has really been committed.
 */
let database: TestDatabase;
let pool: pg.Pool;
let observer: pg.Client;
let writer: PostgresGroupCommitWriter;

function insertProbe(id: number) {
  return async (db: Executor) => {
    await sql`insert into probe (id) values (${id})`.execute(db);
    return id;
  };
}

async function committedIds(): Promise<number[]> {
  const { rows } = await observer.query<{ id: number }>('select id from probe order by id');
  return rows.map((row) => row.id);
}

if (POSTGRES_CONFIGURED) {
  beforeEach(async () => {
    database = await createTestDatabase('postgres');
    const connectionString = database.target.kind === 'postgres' ? database.target.connectionString : '';
    observer = new pg.Client({ connectionString });
    await observer.connect();
    await observer.query('create table probe (id integer primary key, note text)');
    pool = new pg.Pool({ connectionString, max: 3, pipeline: true });
    writer = new PostgresGroupCommitWriter(pool, { maxConcurrentBatches: 3 });
  });

  afterEach(async () => {
    await writer.drain();
    await pool.end();
    await observer.end();
    await database.destroy();
  });

  describe('PostgresGroupCommitWriter', () => {
    it('commits concurrent units in shared transactions, each caller getting its own result', async () => {
      const ids = Array.from({ length: 200 }, (_, index) => index + 1);
      expect(await Promise.all(ids.map((id) => writer.run(insertProbe(id))))).toEqual(ids);
      expect(await committedIds()).toEqual(ids);
      const { batches, units } = writer.statistics;
      expect(units).toBe(200);
      // All 200 arrived in one loop turn: one batch (the cap is 500), not one per unit.
      expect(batches).toBe(1);
    });

    it('answers only after the commit: a row is invisible to others until its promise resolves', async () => {
      let settled = false;
      const slow = writer
        .run(async (db) => {
          await sql`insert into probe (id) values (1)`.execute(db);
          await sql`select pg_sleep(0.3)`.execute(db);
          return 'done';
        })
        .finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(settled).toBe(false);
      expect(await committedIds()).toEqual([]);
      expect(await slow).toBe('done');
      expect(await committedIds()).toEqual([1]);
    });

    it('fails only the unit whose constraint failed; the rest of its batch commits', async () => {
      await observer.query('insert into probe (id) values (5)');
      const results = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7].map((id) => writer.run(insertProbe(id))));
      const rejected = results.flatMap((result, index) => (result.status === 'rejected' ? [index + 1] : []));
      expect(rejected).toEqual([5]);
      expect((results[4] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      expect(await committedIds()).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // The failed unit's own batch was retried with savepoints, not split into transactions.
      expect(writer.statistics).toEqual({ batches: 1, units: 7 });
    });

    it('undoes the writes of a unit that throws after writing, and only that unit', async () => {
      const failing = writer.run(async (db) => {
        await sql`insert into probe (id) values (100)`.execute(db);
        throw new Error('agent_not_found');
      });
      const others = [1, 2, 3].map((id) => writer.run(insertProbe(id)));
      await expect(failing).rejects.toThrow('agent_not_found');
      expect(await Promise.all(others)).toEqual([1, 2, 3]);
      expect(await committedIds()).toEqual([1, 2, 3]);
    });

    it('rejects a unit that swallowed a statement error (the transaction was aborted) and keeps the others', async () => {
      await observer.query('insert into probe (id) values (9)');
      const swallowing = writer.run(async (db) => {
        await sql`insert into probe (id) values (9)`.execute(db).catch(() => undefined);
        return 'looks fine';
      });
      const alone = await Promise.allSettled([swallowing]);
      expect(alone[0]!.status).toBe('rejected');
      const batch = await Promise.allSettled([
        writer.run(insertProbe(1)),
        writer.run(async (db) => {
          await sql`insert into probe (id) values (9)`.execute(db).catch(() => undefined);
          return 'looks fine';
        }),
        writer.run(insertProbe(2)),
      ]);
      expect(batch.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await committedIds()).toEqual([1, 2, 9]);
    });

    it('runs later batches while one is still committing, each on its own client', async () => {
      const slow = writer.run(async (db) => {
        await sql`select pg_sleep(0.3)`.execute(db);
        return insertProbe(1)(db);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      // This batch starts and commits while the first still sleeps.
      expect(await Promise.all([2, 3].map((id) => writer.run(insertProbe(id))))).toEqual([2, 3]);
      expect(await committedIds()).toEqual([2, 3]);
      expect(await slow).toBe(1);
      expect(await committedIds()).toEqual([1, 2, 3]);
    });

    it('rejects every unit of a batch whose connection broke, and the next write works', async () => {
      const doomed = [1, 2].map((id) =>
        writer.run(async (db) => {
          await sql`select pg_terminate_backend(pg_backend_pid())`.execute(db);
          return insertProbe(id)(db);
        }),
      );
      const results = await Promise.allSettled(doomed);
      expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      expect(await writer.run(insertProbe(3))).toBe(3);
      expect(await committedIds()).toEqual([3]);
    });
  });
}
