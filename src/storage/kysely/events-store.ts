import type { NewThreadEvent, ThreadEvent } from '../../domain/thread-events.js';
import type { ThreadEventRow } from './schema.js';
import { parseJson, type Executor } from './executor.js';

/** Stored events were appended through `EventWriter.append`, so their data has their type's shape. */
function eventRowToEvent(row: ThreadEventRow): ThreadEvent {
  const event = { type: row.type, data: parseJson<unknown>(row.data) } as NewThreadEvent;
  return { ...event, seq: Number(row.seq), created_at: row.created_at };
}

export class EventReader {
  constructor(private readonly db: Executor) {}

  /** Durable events after `afterSeq`, oldest first. */
  async listAfter(input: {
    organizationId: string;
    threadId: string;
    afterSeq: number;
    limit: number;
  }): Promise<ThreadEvent[]> {
    const rows = await this.db
      .selectFrom('thread_events')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('thread_id', '=', input.threadId)
      .where('seq', '>', input.afterSeq)
      .orderBy('seq', 'asc')
      .limit(input.limit)
      .execute();
    return rows.map(eventRowToEvent);
  }

  /**
   * The run holding the thread's lease at `now`, with the position of its `run-start` in the log
   * (null until the run has appended it). Null when no live run holds the thread. The `run-start`
   * is found from the log's end backwards: it is the last one, a few events back.
   */
  async activeRun(input: {
    organizationId: string;
    threadId: string;
    now: string;
  }): Promise<{ runId: string; startSeq: number | null } | null> {
    const thread = await this.db
      .selectFrom('chat_threads')
      .select(['active_run_id', 'active_run_expires_at'])
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.threadId)
      .executeTakeFirst();
    const runId = thread?.active_run_id ?? null;
    const expiresAt = thread?.active_run_expires_at ?? null;
    if (runId === null || expiresAt === null || expiresAt <= input.now) return null;
    const start = await this.db
      .selectFrom('thread_events')
      .select(['seq', 'data'])
      .where('organization_id', '=', input.organizationId)
      .where('thread_id', '=', input.threadId)
      .where('type', '=', 'run-start')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const startedRunId = start ? parseJson<{ run_id: string }>(start.data).run_id : null;
    return { runId, startSeq: start && startedRunId === runId ? Number(start.seq) : null };
  }

  async lastSeq(input: { organizationId: string; threadId: string }): Promise<number | null> {
    const row = await this.db
      .selectFrom('chat_threads')
      .select('last_event_seq')
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.threadId)
      .executeTakeFirst();
    return row ? Number(row.last_event_seq) : null;
  }
}

export class EventWriter {
  constructor(private readonly db: Executor) {}

  /**
   * Appends events to the thread's log with the next sequence numbers. The counter lives on the
   * thread row, so concurrent appenders (any process) are serialised by the row lock and the
   * numbers have no gaps. Returns null when the thread does not exist in the organisation.
   */
  async append(input: {
    organizationId: string;
    threadId: string;
    events: readonly NewThreadEvent[];
    now: string;
  }): Promise<ThreadEvent[] | null> {
    const updated = await this.db
      .updateTable('chat_threads')
      .set((eb) => ({ last_event_seq: eb('last_event_seq', '+', input.events.length) }))
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.threadId)
      .returning('last_event_seq')
      .executeTakeFirst();
    if (!updated) return null;
    const first = Number(updated.last_event_seq) - input.events.length + 1;
    const rows: ThreadEventRow[] = input.events.map((event, index) => ({
      thread_id: input.threadId,
      seq: first + index,
      organization_id: input.organizationId,
      type: event.type,
      data: JSON.stringify(event.data),
      created_at: input.now,
    }));
    if (rows.length > 0) await this.db.insertInto('thread_events').values(rows).execute();
    // Built from the input, not parsed back from what was written.
    return input.events.map((event, index) => ({ ...event, seq: first + index, created_at: input.now }));
  }
}
