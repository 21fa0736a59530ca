import type { ChatMessage, JsonObject, MessageFeedbackSimple, Page, ToolCall } from '../../domain/models.js';
import type { NewFeedback, NewMessage, PositionedToolCall, StoredToolCall } from '../../domain/runs.js';
import type { FeedbackRow, MessageRow, ToolCallRow } from './schema.js';
import { parseJson, parseNullableJson, type Executor } from './executor.js';
import { feedbackRowToStoredFeedback } from './feedback-store.js';
import { readKeysetPage, type KeysetCursor } from './keyset-page.js';

/**
 * A message's own columns: not its full-text index key (SQLite's `search_seq`, PostgreSQL's
 * `search_vector`, migration 0012), which no reader needs and which would double what a
 * message list reads on PostgreSQL.
 */
const MESSAGE_COLUMNS = [
  'id',
  'organization_id',
  'thread_id',
  'role',
  'content',
  'content_html',
  'attachments',
  'metadata',
  'created_at',
] as const;

/** The one mapper of a tool-call row; the API shows a call without its record id. */
export function toolCallRowToStoredToolCall(row: ToolCallRow): StoredToolCall {
  return {
    id: row.id,
    tool_name: row.tool_name,
    arguments: parseJson<JsonObject>(row.arguments),
    result: parseNullableJson<unknown>(row.result),
    error: row.error,
    start_time: row.start_time,
    end_time: row.end_time,
  };
}

function toolCallRowToToolCall(row: ToolCallRow): ToolCall {
  const { id: _id, ...call } = toolCallRowToStoredToolCall(row);
  return call;
}

/** The rating as a message embeds it: the stored one without what only the feedback routes show. */
function feedbackRowToFeedback(row: FeedbackRow): MessageFeedbackSimple {
  const {
    thread_id: _thread,
    anon_user_id: _visitor,
    source: _source,
    context_id: _context,
    ...simple
  } = feedbackRowToStoredFeedback(row);
  return simple;
}

function messageRowToMessage(
  row: MessageRow,
  toolCalls: ToolCall[],
  feedback: MessageFeedbackSimple | null,
): ChatMessage {
  return {
    id: row.id,
    thread_id: row.thread_id,
    content: row.content,
    content_html: row.content_html,
    role: row.role,
    tool_calls: toolCalls,
    attachments: parseJson<JsonObject[]>(row.attachments),
    metadata: parseJson<JsonObject>(row.metadata),
    created_at: row.created_at,
    feedback,
  };
}

type MessageListQuery = { organizationId: string; threadId: string } & Page;

export class MessageReader {
  constructor(private readonly db: Executor) {}

  async get(input: { organizationId: string; id: string }): Promise<ChatMessage | null> {
    const row = await this.db
      .selectFrom('chat_messages')
      .select(MESSAGE_COLUMNS)
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? ((await this.#assemble(input.organizationId, [row]))[0] ?? null) : null;
  }

  /**
   * Chronological; the time-ordered id breaks ties within one millisecond. Null when the cursor
   * is not one of the thread's messages.
   */
  async listForThread(input: MessageListQuery & { cursor?: null | undefined }): Promise<ChatMessage[]>;
  async listForThread(input: MessageListQuery & { cursor: KeysetCursor | null }): Promise<ChatMessage[] | null>;
  async listForThread(
    input: MessageListQuery & { cursor?: KeysetCursor | null | undefined },
  ): Promise<ChatMessage[] | null> {
    const scoped = this.db
      .selectFrom('chat_messages')
      .where('organization_id', '=', input.organizationId)
      .where('thread_id', '=', input.threadId);
    const rows = await readKeysetPage(scoped.select(MESSAGE_COLUMNS), {
      ...input,
      order: 'asc',
      position: (id) => scoped.select(['created_at', 'id']).where('id', '=', id),
    });
    return rows ? this.#assemble(input.organizationId, rows) : null;
  }

  /** Every message of each thread, grouped by thread id, in three queries whatever the count. */
  async listForThreads(input: { organizationId: string; threadIds: string[] }): Promise<Map<string, ChatMessage[]>> {
    const grouped = new Map<string, ChatMessage[]>(input.threadIds.map((id) => [id, []]));
    if (input.threadIds.length === 0) return grouped;
    const rows = await this.db
      .selectFrom('chat_messages')
      .select(MESSAGE_COLUMNS)
      .where('organization_id', '=', input.organizationId)
      .where('thread_id', 'in', input.threadIds)
      // Chronological; the time-ordered id breaks ties within one millisecond.
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    for (const message of await this.#assemble(input.organizationId, rows)) {
      grouped.get(message.thread_id)?.push(message);
    }
    return grouped;
  }

  async #assemble(organizationId: string, rows: MessageRow[]): Promise<ChatMessage[]> {
    if (rows.length === 0) return [];
    const messageIds = rows.map((row) => row.id);
    const [toolCallRows, feedbackRows] = await Promise.all([
      this.db
        .selectFrom('tool_calls')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('message_id', 'in', messageIds)
        .orderBy('message_id')
        .orderBy('position')
        .execute(),
      this.db
        .selectFrom('message_feedback')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where((eb) => eb.or([eb('ai_message_id', 'in', messageIds), eb('human_message_id', 'in', messageIds)]))
        .orderBy('updated_at', 'asc')
        .execute(),
    ]);
    const toolCalls = new Map<string, ToolCall[]>();
    for (const row of toolCallRows) {
      const list = toolCalls.get(row.message_id) ?? [];
      list.push(toolCallRowToToolCall(row));
      toolCalls.set(row.message_id, list);
    }
    // The newest feedback wins; feedback on the answer (ai_message_id) wins over feedback on the question.
    const feedback = new Map<string, MessageFeedbackSimple>();
    for (const row of feedbackRows) {
      if (row.human_message_id !== null) feedback.set(row.human_message_id, feedbackRowToFeedback(row));
    }
    for (const row of feedbackRows) {
      if (row.ai_message_id !== null) feedback.set(row.ai_message_id, feedbackRowToFeedback(row));
    }
    return rows.map((row) => messageRowToMessage(row, toolCalls.get(row.id) ?? [], feedback.get(row.id) ?? null));
  }
}

export class MessageWriter {
  constructor(private readonly db: Executor) {}

  /** Appends a message with its tool calls; the thread must belong to the message's organisation. */
  async insert(message: NewMessage): Promise<ChatMessage> {
    const toolCalls = message.tool_calls ?? [];
    await this.db
      .insertInto('chat_messages')
      .values({
        id: message.id,
        organization_id: message.organization_id,
        thread_id: message.thread_id,
        role: message.role,
        content: message.content,
        content_html: message.content_html,
        attachments: JSON.stringify(message.attachments),
        metadata: JSON.stringify(message.metadata),
        created_at: message.created_at,
      })
      .execute();
    if (toolCalls.length > 0) {
      await this.db
        .insertInto('tool_calls')
        .values(toolCalls.map((call) => toolCallToRow(message, call)))
        .execute();
    }
    await this.db
      .updateTable('chat_threads')
      .set({ updated_at: message.created_at })
      .where('organization_id', '=', message.organization_id)
      .where('id', '=', message.thread_id)
      .execute();
    return {
      id: message.id,
      thread_id: message.thread_id,
      content: message.content,
      content_html: message.content_html,
      role: message.role,
      tool_calls: [...toolCalls]
        .sort((left, right) => left.position - right.position)
        .map(({ id: _id, position: _position, ...call }) => call),
      attachments: message.attachments,
      metadata: message.metadata,
      created_at: message.created_at,
      feedback: null,
    };
  }

  async insertFeedback(feedback: NewFeedback): Promise<void> {
    await this.db.insertInto('message_feedback').values(feedback).execute();
  }
}

function toolCallToRow(message: NewMessage, call: PositionedToolCall): ToolCallRow {
  return {
    id: call.id,
    organization_id: message.organization_id,
    thread_id: message.thread_id,
    message_id: message.id,
    position: call.position,
    tool_name: call.tool_name,
    arguments: JSON.stringify(call.arguments),
    result: call.result === null ? null : JSON.stringify(call.result),
    error: call.error,
    start_time: call.start_time,
    end_time: call.end_time,
    status: call.error !== null ? 'failed' : call.end_time === null ? 'running' : 'completed',
    run_id: null,
    tool_call_id: null,
    approval: null,
    approval_expires_at: null,
  };
}
