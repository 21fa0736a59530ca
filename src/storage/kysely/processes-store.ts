import type { Selectable } from 'kysely';
import type { DeadProcess, ServerProcess } from '../../domain/processes.js';
import type { Executor } from './executor.js';
import type { ServerProcessRow } from './schema.js';

function serverProcessRowToServerProcess(row: Selectable<ServerProcessRow>): ServerProcess {
  return {
    id: row.id,
    host: row.host,
    pid: Number(row.pid),
    heartbeatMs: Number(row.heartbeat_ms),
    beats: Number(row.beats),
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
  };
}

export class ProcessReader {
  constructor(private readonly db: Executor) {}

  /** Every registered process, oldest boot first. */
  async list(): Promise<ServerProcess[]> {
    const rows = await this.db.selectFrom('server_processes').selectAll().orderBy('id').execute();
    return rows.map(serverProcessRowToServerProcess);
  }
}

/**
 * The heartbeat table's writes. A process inserts its row at start, beats while it lives and
 * deletes the row when it stops cleanly; another process deletes it when it has died. Every
 * write is conditional, so processes that race over one row never both win.
 */
export class ProcessWriter {
  constructor(private readonly db: Executor) {}

  async register(input: { id: string; host: string; pid: number; heartbeatMs: number; now: string }): Promise<void> {
    await this.db
      .insertInto('server_processes')
      .values({
        id: input.id,
        host: input.host,
        pid: input.pid,
        heartbeat_ms: input.heartbeatMs,
        beats: 0,
        started_at: input.now,
        heartbeat_at: input.now,
      })
      .execute();
  }

  /** One heartbeat. False when the row is gone: another process took this one for dead. */
  async beat(input: { id: string; now: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('server_processes')
      .set((eb) => ({ beats: eb('beats', '+', 1), heartbeat_at: input.now }))
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** A clean stop. */
  async remove(input: { id: string }): Promise<void> {
    await this.db.deleteFrom('server_processes').where('id', '=', input.id).execute();
  }

  /**
   * Deletes a dead process's row, only if it has not beaten since it was seen stuck: a process
   * that was merely slow keeps its row. True for the one caller that deleted it.
   */
  async removeDead(dead: DeadProcess): Promise<boolean> {
    const result = await this.db
      .deleteFrom('server_processes')
      .where('id', '=', dead.id)
      .where('beats', '=', dead.beats)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Deletes every row but `keepId`'s (a SQLite file serves one process: the others are dead). */
  async removeAllBut(input: { keepId: string }): Promise<number> {
    const result = await this.db.deleteFrom('server_processes').where('id', '!=', input.keepId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
