import type { MessageRow, ToolCallRow } from '../schema.js';
import type { Executor } from './executor.js';

/** The writes a run makes to its assistant message as it goes: tool calls, then the final text. */
export class RunMessageWriter {
  constructor(private readonly db: Executor) {}

  async finish(input: {
    organizationId: string;
    messageId: string;
    content: string;
    contentHtml: string;
    metadata: string;
  }): Promise<MessageRow | null> {
    const row = await this.db
      .updateTable('chat_messages')
      .set({ content: input.content, content_html: input.contentHtml, metadata: input.metadata })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.messageId)
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async startToolCall(row: ToolCallRow): Promise<void> {
    await this.db.insertInto('tool_calls').values(row).execute();
  }

  async finishToolCall(input: {
    organizationId: string;
    id: string;
    result: string | null;
    error: string | null;
    endTime: string;
  }): Promise<void> {
    await this.db
      .updateTable('tool_calls')
      .set({ result: input.result, error: input.error, end_time: input.endTime })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .execute();
  }
}

export class RunMessageReader {
  constructor(private readonly db: Executor) {}

  /** The newest `limit` messages of a thread, oldest first, with their tool calls. */
  async recent(input: {
    organizationId: string;
    threadId: string;
    limit: number;
  }): Promise<{ message: MessageRow; toolCalls: ToolCallRow[] }[]> {
    const rows = await this.db
      .selectFrom('chat_messages')
      .selectAll()
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
    return rows.map((message) => ({ message, toolCalls: toolCalls.filter((call) => call.message_id === message.id) }));
  }
}
