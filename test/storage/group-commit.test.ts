import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitWriter } from '../../src/storage/kysely/group-commit.js';
import type { Executor } from '../../src/storage/kysely/executor.js';

/**
 * GroupCommitWriter over a real SQLite file, set up as the server sets up its write connection
 * (WAL, synchronous=FULL). An observer — a separate connection, as another process would be —
 * shows what has really been committed.
 */
let directory: string;
let filename: string;
let connection: BetterSqlite3.Database;
let writer: GroupCommitWriter;
let observer: BetterSqlite3.Database;

function openConnection(busyTimeoutMs: number): BetterSqlite3.Database {
  const connection = new BetterSqlite3(filename);
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = FULL');
  connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
  connection.pragma('foreign_keys = ON');
  return connection;
}

/** Opens the writer; a short busy timeout makes a held write lock fail BEGIN quickly. */
function openWriter(busyTimeoutMs = 5000, maxBatchSize?: number): void {
  connection = openConnection(busyTimeoutMs);
  writer = new GroupCommitWriter(connection, maxBatchSize === undefined ? {} : { maxBatchSize });
}

function insertProbe(id: number) {
  return async (transaction: Executor) => {
    await sql`insert into probe (id) values (${id})`.execute(transaction);
    return id;
  };
}

function committed(id: number): boolean {
  return observer.prepare('select 1 from probe where id = ?').get(id) !== undefined;
}

function committedCount(): number {
  return (observer.prepare('select count(*) as count from probe').get() as { count: number }).count;
}

beforeEach(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-group-commit-'));
  filename = path.join(directory, 'group-commit.db');
  const setup = openConnection(5000);
  setup.exec(`
    create table probe (id integer primary key);
    create table parent (id integer primary key);
    create table child (
      id integer primary key,
      parent_id integer not null references parent (id) deferrable initially deferred
    );
  `);
  setup.close();
  observer = new BetterSqlite3(filename, { readonly: true });
});

afterEach(async () => {
  await writer.drain();
  connection.close();
  observer.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

describe('GroupCommitWriter', () => {
  it('commits units that arrive together in one transaction', async () => {
    openWriter();
    const ids = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(await Promise.all(ids.map((id) => writer.run(insertProbe(id))))).toEqual(ids);
    expect(writer.statistics).toEqual({ batches: 1, units: 100 });
    expect(committedCount()).toBe(100);

    // Units that arrive one after another each get their own commit.
    await writer.run(insertProbe(101));
    await writer.run(insertProbe(102));
    expect(writer.statistics).toEqual({ batches: 3, units: 102 });
  });

  it('commits a batch as soon as it reaches maxBatchSize', async () => {
    openWriter(5000, 4);
    const ids = Array.from({ length: 10 }, (_, index) => index + 1);
    expect(await Promise.all(ids.map((id) => writer.run(insertProbe(id))))).toEqual(ids);
    // The fourth unit starts a commit at once; the six queued while it runs go in the next one.
    expect(writer.statistics).toEqual({ batches: 2, units: 10 });
    expect(committedCount()).toBe(10);
  });

  it('rolls back a failing unit alone, inside a batch that commits the others', async () => {
    openWriter();
    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((id) =>
        writer.run(async (transaction) => {
          await insertProbe(id)(transaction);
          if (id === 3) throw new Error('unit 3 fails');
          return id;
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect(writer.statistics).toEqual({ batches: 1, units: 5 });
    expect([1, 2, 3, 4, 5].map(committed)).toEqual([true, true, false, true, true]);
  });

  it('settles no unit before the commit that holds it', async () => {
    openWriter();
    const seenInsideUnit: boolean[] = [];
    const seenOnResolve: boolean[] = [];
    const runObserved = (id: number): Promise<unknown> =>
      writer
        .run(async (transaction) => {
          await insertProbe(id)(transaction);
          // Sanity: the observer does not see uncommitted rows, so the check below means something.
          seenInsideUnit.push(committed(id));
          return id;
        })
        .then((value) => {
          seenOnResolve.push(committed(value));
          // Units queued from a resolution land in a later batch, while this one may still be settling.
          if (value <= 50 && value % 10 === 0) return runObserved(value + 1000);
          return undefined;
        });
    await Promise.all(Array.from({ length: 50 }, (_, index) => runObserved(index + 1)));
    expect(seenInsideUnit).toHaveLength(55);
    expect(seenInsideUnit.every((seen) => !seen)).toBe(true);
    expect(seenOnResolve).toHaveLength(55);
    expect(seenOnResolve.every(Boolean)).toBe(true);
    expect(writer.statistics.batches).toBeGreaterThanOrEqual(2);
  });

  it('rejects every unit in the batch when BEGIN fails, then recovers', async () => {
    openWriter(20);
    // Another connection (another process, say) holds the write lock past the writer's busy timeout.
    const blocker = new BetterSqlite3(filename);
    blocker.exec('begin immediate');
    try {
      const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map((id) => writer.run(insertProbe(id))));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_BUSY' });
      }
    } finally {
      blocker.exec('rollback');
      blocker.close();
    }
    expect(committedCount()).toBe(0);
    expect(writer.statistics).toEqual({ batches: 0, units: 0 });

    expect(await writer.run(insertProbe(6))).toBe(6);
    expect(committed(6)).toBe(true);
  });

  it('rejects every unit in the batch when COMMIT fails, then recovers', async () => {
    openWriter();
    // A deferred foreign key is checked at COMMIT: one unit's orphan row makes the commit fail.
    const orphan = async (transaction: Executor) => {
      await sql`insert into child (id, parent_id) values (1, 999)`.execute(transaction);
      return 0;
    };
    const outcomes = await Promise.allSettled([
      writer.run(insertProbe(1)),
      writer.run(orphan),
      writer.run(insertProbe(2)),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    }
    expect(committedCount()).toBe(0);
    expect(writer.statistics).toEqual({ batches: 0, units: 0 });

    expect(await writer.run(insertProbe(3))).toBe(3);
    expect(committedCount()).toBe(1);
  });

  it('drain() waits for queued work, including work queued while a batch runs', async () => {
    openWriter();
    await writer.drain(); // nothing queued: resolves at once
    const settled: number[] = [];
    const track = (promise: Promise<number>) => void promise.then((id) => settled.push(id));
    for (let id = 1; id <= 10; id += 1) track(writer.run(insertProbe(id)));
    track(
      writer.run(async (transaction) => {
        // Queued while the first batch holds the transaction: it must wait for the next one.
        track(writer.run(insertProbe(12)));
        return insertProbe(11)(transaction);
      }),
    );
    await writer.drain();
    expect(settled.sort((left, right) => left - right)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(committedCount()).toBe(12);
    expect(writer.statistics).toEqual({ batches: 2, units: 12 });
  });
});
