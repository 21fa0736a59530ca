import type { ExpressionBuilder, Updateable } from 'kysely';
import type { ChatThread, JsonObject, NewThread, Page } from '../../domain/models.js';
import type { ThreadVisitor } from '../../domain/widget.js';
import type { ThreadChanges } from '../../domain/web-threads.js';
import type { Database, ThreadRow } from './schema.js';
import { parseJson, type Executor } from './executor.js';
import { PreparedQuery } from './prepared-query.js';
import { columnsOf, runBatched, type BatchedStatement } from './batched-statement.js';
import { readKeysetPage, type KeysetCursor } from './keyset-page.js';

/** Threads leave the store without their messages: those are read (and attached) on their own. */
export function threadRowToThread(row: ThreadRow): ChatThread {
  return {
    id: row.id,
    agent_id: row.agent_id,
    user_id: row.user_id,
    anon_user_id: row.anon_user_id,
    organization_id: row.organization_id,
    title: row.title,
    metadata: parseJson<JsonObject>(row.metadata),
    created_at: row.created_at,
    updated_at: row.updated_at,
    messages: [],
  };
}

/** The thread's own columns: the runtime's bookkeeping (event counter, run lease) stays out. */
export const THREAD_COLUMNS = [
  'id',
  'organization_id',
  'agent_id',
  'user_id',
  'anon_user_id',
  'title',
  'metadata',
  'created_at',
  'updated_at',
] as const;

type ThreadListQuery = { organizationId: string; agentId: string; visitor?: ThreadVisitor | null | undefined } & Page;

interface ThreadKey {
  organizationId: string;
  agentId: string;
  id: string;
}

/**
 * The threads a widget visitor may see, as a condition inside the statement: their anonymous
 * user's, and once identified, their widget user's (threads started on other devices).
 */
function visibleTo(visitor: ThreadVisitor) {
  return (eb: ExpressionBuilder<Database, 'chat_threads'>) =>
    visitor.widgetUserId === null
      ? eb('anon_user_id', '=', visitor.anonymousUserId)
      : eb.or([eb('anon_user_id', '=', visitor.anonymousUserId), eb('widget_user_id', '=', visitor.widgetUserId)]);
}

export class ThreadReader {
  constructor(private readonly db: Executor) {}

  /** With `visitor`, only a thread that visitor may see (any other is null, as another organisation's is). */
  async get(input: ThreadKey & { visitor?: ThreadVisitor | null | undefined }): Promise<ChatThread | null> {
    let query = this.db
      .selectFrom('chat_threads')
      .select(THREAD_COLUMNS)
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id);
    if (input.visitor) query = query.where(visibleTo(input.visitor));
    const row = await query.executeTakeFirst();
    return row ? threadRowToThread(row) : null;
  }

  /**
   * Newest first; the time-ordered id breaks ties within one millisecond. Null when the cursor
   * is not one of the agent's threads.
   */
  async list(input: ThreadListQuery & { cursor?: null | undefined }): Promise<ChatThread[]>;
  async list(input: ThreadListQuery & { cursor: KeysetCursor | null }): Promise<ChatThread[] | null>;
  async list(input: ThreadListQuery & { cursor?: KeysetCursor | null | undefined }): Promise<ChatThread[] | null> {
    let scoped = this.db
      .selectFrom('chat_threads')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId);
    if (input.visitor) scoped = scoped.where(visibleTo(input.visitor));
    const rows = await readKeysetPage(scoped.select(THREAD_COLUMNS), {
      ...input,
      order: 'desc',
      position: (id) => scoped.select(['created_at', 'id']).where('id', '=', id),
    });
    return rows?.map(threadRowToThread) ?? null;
  }

  /** The threads of these ids in the organisation, by id (the search's page). */
  async getMany(input: { organizationId: string; ids: readonly string[] }): Promise<Map<string, ChatThread>> {
    if (input.ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('chat_threads')
      .select(THREAD_COLUMNS)
      .where('organization_id', '=', input.organizationId)
      .where('id', 'in', input.ids)
      .execute();
    return new Map(rows.map((row) => [row.id, threadRowToThread(row)]));
  }
}

/** The hottest write of the API (thread creation), compiled once: see PreparedQuery. */
const INSERT_THREAD_COLUMNS = [
  'id',
  'organization_id',
  'agent_id',
  'user_id',
  'anon_user_id',
  'widget_user_id',
  'title',
  'metadata',
  'created_at',
  'updated_at',
] as const;

const INSERT_THREAD = new PreparedQuery<InsertThreadRow>(INSERT_THREAD_COLUMNS, (db, row) =>
  db
    .insertInto('chat_threads')
    .columns(INSERT_THREAD_COLUMNS)
    .expression((eb) =>
      eb
        .selectFrom('agents')
        .select([
          eb.val(row.id).as('id'),
          'agents.organization_id',
          'agents.id as agent_id',
          eb.val(row.user_id).as('user_id'),
          eb.val(row.anon_user_id).as('anon_user_id'),
          eb.val(row.widget_user_id).as('widget_user_id'),
          eb.val(row.title).as('title'),
          eb.val(row.metadata).as('metadata'),
          eb.val(row.created_at).as('created_at'),
          eb.val(row.updated_at).as('updated_at'),
        ])
        .where('agents.id', '=', row.agent_id)
        .where('agents.organization_id', '=', row.organization_id),
    ),
);

type InsertThreadRow = ThreadRow & { widget_user_id: string | null };

/**
 * The creates of one PostgreSQL batch as one statement (ADR 0033 amendment): the same tenant
 * check (the join on the agent of the organisation), one row per call; a call is inserted when its
 * id comes back. One fixed text whatever the batch size, so it stays a named prepared statement.
 */
const INSERT_THREADS_SQL =
  `insert into chat_threads (${INSERT_THREAD_COLUMNS.join(', ')}) ` +
  'select v.id, agents.organization_id, agents.id, v.user_id, v.anon_user_id, v.widget_user_id, v.title, ' +
  'v.metadata, v.created_at, v.updated_at ' +
  `from unnest(${INSERT_THREAD_COLUMNS.map((_, index) => `$${index + 1}::text[]`).join(', ')}) ` +
  `as v(${INSERT_THREAD_COLUMNS.join(', ')}) ` +
  'join agents on agents.id = v.agent_id and agents.organization_id = v.organization_id ' +
  'returning chat_threads.id';

const INSERT_THREADS: BatchedStatement<InsertThreadRow, boolean> = {
  single: async (db, row) => Number((await INSERT_THREAD.execute(db, row)).numAffectedRows ?? 0) > 0,
  many: async (connection, rows) => {
    const result = await connection.send(INSERT_THREADS_SQL, columnsOf(INSERT_THREAD_COLUMNS, rows));
    const inserted = new Set(result.rows.map((row) => row.id));
    return rows.map((row) => inserted.has(row.id));
  },
};

export class ThreadWriter {
  constructor(private readonly db: Executor) {}

  /**
   * Inserts the thread only if its agent exists in the same organisation, in one statement, so
   * no check-then-write gap exists. Returns null when there is no such agent. On this hot path
   * the thread returned is built from the input, not parsed back from the row. `widgetUserId`
   * links a widget visitor's thread to the identified user it belongs to.
   */
  async insert(thread: NewThread, options: { widgetUserId?: string | null } = {}): Promise<ChatThread | null> {
    const row: InsertThreadRow = {
      id: thread.id,
      organization_id: thread.organization_id,
      agent_id: thread.agent_id,
      user_id: thread.user_id,
      anon_user_id: thread.anon_user_id,
      widget_user_id: options.widgetUserId ?? null,
      title: thread.title,
      metadata: JSON.stringify(thread.metadata),
      created_at: thread.created_at,
      updated_at: thread.updated_at,
    };
    return (await runBatched(this.db, INSERT_THREADS, row)) ? { ...thread, messages: [] } : null;
  }

  async update(input: ThreadKey & { changes: ThreadChanges; now: string }): Promise<ChatThread | null> {
    const { metadata, connected_to_platform: connected, ...columns } = input.changes;
    const set: Updateable<Database['chat_threads']> = { ...columns, updated_at: input.now };
    if (metadata !== undefined) set.metadata = JSON.stringify(metadata);
    if (connected !== undefined) set.connected_to_platform = connected ? 1 : 0;
    const row = await this.db
      .updateTable('chat_threads')
      .set(set)
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .returning(THREAD_COLUMNS)
      .executeTakeFirst();
    return row ? threadRowToThread(row) : null;
  }

  /** Deletes the thread; its messages, tool calls and feedback go with it (foreign-key cascades). */
  async delete(input: ThreadKey): Promise<boolean> {
    const result = await this.db
      .deleteFrom('chat_threads')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteAllForAgent(input: { organizationId: string; agentId: string }): Promise<number> {
    const result = await this.db
      .deleteFrom('chat_threads')
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
