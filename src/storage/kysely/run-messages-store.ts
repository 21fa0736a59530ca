import type { JsonObject } from '../../domain/models.js';
import type { ConversationMessage, NewToolCall, StoredToolCall } from '../../domain/runs.js';
import type { Executor } from './executor.js';
import { toolCallRowToStoredToolCall } from './messages-store.js';

/** The writes a run makes to its assistant message as it goes: tool calls, then the final text. */
export class RunMessageWriter {
  constructor(private readonly db: Executor) {}

  /** Stores the reply's final text and metadata; false when the message is gone. */
  async finish(input: {
    organizationId: string;
    messageId: string;
    content: string;
    contentHtml: string;
    metadata: JsonObject;
  }): Promise<boolean> {
    const result = await this.db
      .updateTable('chat_messages')
      .set({ content: input.content, content_html: input.contentHtml, metadata: JSON.stringify(input.metadata) })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.messageId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async startToolCall(call: NewToolCall): Promise<void> {
    await this.db
      .insertInto('tool_calls')
      .values({ ...call, arguments: JSON.stringify(call.arguments), result: null, error: null, end_time: null })
      .execute();
  }

  async finishToolCall(input: {
    organizationId: string;
    id: string;
    result: unknown;
    error: string | null;
    endTime: string;
  }): Promise<void> {
    await this.db
      .updateTable('tool_calls')
      .set({
        result: input.error === null ? JSON.stringify(input.result ?? null) : null,
        error: input.error,
        end_time: input.endTime,
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .execute();
  }
}

export class RunMessageReader {
  constructor(private readonly db: Executor) {}

  /** The newest `limit` messages of a thread, oldest first, with their tool calls. */
  async recent(input: { organizationId: string; threadId: string; limit: number }): Promise<ConversationMessage[]> {
    const rows = await this.db
      .selectFrom('chat_messages')
      .select(['id', 'role', 'content'])
      .where('organization_id', '=', input.organizationId)
      .where('thread_id', '=', input.threadId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(input.limit)
      .execute();
    rows.reverse();
    if (rows.length === 0) return [];
    const toolCalls = await this.db
      .selectFrom('tool_calls')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where(
        'message_id',
        'in',
        rows.map((row) => row.id),
      )
      .orderBy('position')
      .execute();
    return rows.map((message) => ({
      ...message,
      tool_calls: toolCalls.filter((call) => call.message_id === message.id).map(toolCallRowToStoredToolCall),
    }));
  }

  /** The tool calls a run has recorded on its message so far, in order. */
  async toolCalls(input: { organizationId: string; messageId: string }): Promise<StoredToolCall[]> {
    const rows = await this.db
      .selectFrom('tool_calls')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('message_id', '=', input.messageId)
      .orderBy('position')
      .execute();
    return rows.map(toolCallRowToStoredToolCall);
  }
}
