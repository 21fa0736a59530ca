import { sql, SqliteAdapter, type Kysely } from 'kysely';

/**
 * PostgreSQL: every statement that inserts jobs notifies the channel `parley_jobs`
 * (src/storage/kysely/postgres-listener.ts), inside the enqueueing transaction, so other
 * processes' idle workers claim at once instead of at their next poll (ADR 0040, amendment). A
 * rolled-back enqueue notifies no one: PostgreSQL delivers a transaction's notifications at its
 * commit only. It delivers identical notifications of one transaction once, so a group commit
 * of many enqueues, or a bulk enqueue, wakes each listener once. A statement-level trigger costs
 * no round trip and no statement in the application. SQLite has one writing process: nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) return;
  await sql`create function parley_jobs_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('parley_jobs', '');
      return null;
    end
  $$`.execute(db);
  await sql`create trigger jobs_notify after insert on jobs
    for each statement execute function parley_jobs_notify()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) return;
  await sql`drop trigger jobs_notify on jobs`.execute(db);
  await sql`drop function parley_jobs_notify()`.execute(db);
}
