import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { EnhancedWebThread, WebThreadFilter } from '../../domain/web-threads.js';
import type { Executor } from './executor.js';
import { readKeysetPage, type KeysetCursor } from './keyset-page.js';
import { messageFullTextIndex, type MessageFullTextIndex } from './message-full-text.js';
import type { Database, ThreadRow, WidgetUserRow } from './schema.js';
import { THREAD_COLUMNS, threadRowToThread } from './threads-store.js';
import { widgetUserRowToWidgetUser } from './visitors-store.js';

type WebThreadQuery = SelectQueryBuilder<Database, 'chat_threads', object>;

/** The widget user's columns, prefixed: the thread's own `id`, `created_at`… keep their names. */
const WIDGET_USER_COLUMNS = [
  'id',
  'user_name',
  'user_email',
  'verified_user_name',
  'verified_user_email',
  'ip_address',
  'verified',
  'identified_by_tool',
  'created_at',
  'updated_at',
] as const;

type WebThreadRow = ThreadRow & {
  ticket_id: string | null;
  chat_history_parent_comment_id: string | null;
  connected_to_platform: number | string;
  message_count: number | string;
} & { [Column in (typeof WIDGET_USER_COLUMNS)[number] as `widget_user_${Column}`]: WidgetUserRow[Column] | null };

function webThreadRowToWebThread(row: WebThreadRow): EnhancedWebThread {
  return {
    ...threadRowToThread(row),
    widget_user:
      row.widget_user_id === null
        ? null
        : widgetUserRowToWidgetUser({
            id: row.widget_user_id,
            user_name: row.widget_user_user_name,
            user_email: row.widget_user_user_email,
            verified_user_name: row.widget_user_verified_user_name,
            verified_user_email: row.widget_user_verified_user_email,
            ip_address: row.widget_user_ip_address,
            verified: Number(row.widget_user_verified),
            identified_by_tool: Number(row.widget_user_identified_by_tool),
            created_at: row.widget_user_created_at!,
            updated_at: row.widget_user_updated_at!,
          }),
    message_count: Number(row.message_count),
    ticket_id: row.ticket_id,
    chat_history_parent_comment_id: row.chat_history_parent_comment_id,
    connected_to_platform: Number(row.connected_to_platform) === 1,
  };
}

export interface WebThreadPage {
  order: 'asc' | 'desc';
  cursor: KeysetCursor | null;
  limit: number;
  offset: number;
}

/**
 * An agent's web threads (docs/web-threads.md): its threads with `anon_user_id` set, each with
 * its widget user, message count and ticket fields, filtered and paged in one statement.
 */
export class WebThreadReader {
  readonly #fullText: MessageFullTextIndex;

  constructor(
    private readonly db: Executor,
    dialect: 'sqlite' | 'postgres',
  ) {
    this.#fullText = messageFullTextIndex(dialect);
  }

  /**
   * One page of the web threads that pass the filter, in (created_at, id) order. A cursor is
   * any web thread of the agent (it need not pass the filter: it only marks a place in the
   * order). Null when it is none.
   */
  async list(input: WebThreadFilter & WebThreadPage): Promise<EnhancedWebThread[] | null> {
    const { organizationId } = input;
    const scoped = this.db
      .selectFrom('chat_threads')
      .where('chat_threads.organization_id', '=', organizationId)
      .where('chat_threads.agent_id', '=', input.agentId)
      .where('chat_threads.anon_user_id', 'is not', null);
    const query = this.#filtered(scoped, input)
      .leftJoin('widget_users', (join) =>
        join
          .onRef('widget_users.id', '=', 'chat_threads.widget_user_id')
          .on('widget_users.organization_id', '=', organizationId),
      )
      .select(THREAD_COLUMNS.map((column) => `chat_threads.${column}` as const))
      .select([
        'chat_threads.ticket_id',
        'chat_threads.chat_history_parent_comment_id',
        'chat_threads.connected_to_platform',
      ])
      .select(WIDGET_USER_COLUMNS.map((column) => `widget_users.${column} as widget_user_${column}` as const))
      .select((eb) =>
        eb
          .selectFrom('chat_messages')
          .select(eb.fn.countAll().as('count'))
          .whereRef('chat_messages.thread_id', '=', 'chat_threads.id')
          .where('chat_messages.organization_id', '=', organizationId)
          .as('message_count'),
      );
    const rows = await readKeysetPage(query, {
      ...input,
      table: 'chat_threads',
      position: (id) => scoped.select(['chat_threads.created_at', 'chat_threads.id']).where('chat_threads.id', '=', id),
    });
    return rows?.map((row) => webThreadRowToWebThread(row as unknown as WebThreadRow)) ?? null;
  }

  #filtered(query: WebThreadQuery, filter: WebThreadFilter): WebThreadQuery {
    let filtered = query;
    if (filter.terms !== undefined) {
      // Every match, not the best few: the filter must be exact (the order is by date, not rank).
      const matches = this.#fullText.matches({
        organizationId: filter.organizationId,
        terms: filter.terms,
        candidates: null,
      });
      filtered = filtered.where(sql<boolean>`chat_threads.id in (select m.thread_id from (${matches}) m)`);
    }
    if (filter.feedback !== undefined) filtered = filtered.where((eb) => eb.exists(ratedAnswers(eb, filter)));
    if (filter.ticket !== undefined)
      filtered = filtered.where('chat_threads.ticket_id', filter.ticket === 'converted' ? 'is not' : 'is', null);
    if (filter.from !== undefined) filtered = filtered.where('chat_threads.created_at', '>=', filter.from);
    if (filter.to !== undefined) filtered = filtered.where('chat_threads.created_at', '<=', filter.to);
    return filtered;
  }
}

/** The thread's answers rated as the filter asks (ratings are only ever of assistant messages). */
function ratedAnswers(eb: ExpressionBuilder<Database, 'chat_threads'>, filter: WebThreadFilter) {
  let rated = eb
    .selectFrom('message_feedback')
    .select(sql.lit(1).as('rated'))
    .whereRef('message_feedback.thread_id', '=', 'chat_threads.id')
    .where('message_feedback.organization_id', '=', filter.organizationId)
    .where('message_feedback.ai_message_id', 'is not', null);
  rated =
    filter.feedback === 'any'
      ? rated.where('message_feedback.feedback_type', 'is not', null)
      : rated.where('message_feedback.feedback_type', '=', filter.feedback!);
  return rated;
}
