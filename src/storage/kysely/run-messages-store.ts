import type { JsonObject } from '../../domain/models.js';
import type {
  ConversationMessage,
  ExpiredApproval,
  NewToolCall,
  RunToolCall,
  StoredToolCall,
  ToolCallApproval,
  ToolCallStatus,
} from '../../domain/runs.js';
import { parseNullableJson, type Executor } from './executor.js';
import { toolCallRowToStoredToolCall } from './messages-store.js';
import type { ToolCallRow } from './schema.js';

function toolCallRowToRunToolCall(row: ToolCallRow): RunToolCall {
  return {
    ...toolCallRowToStoredToolCall(row),
    position: Number(row.position),
    status: row.status as ToolCallStatus,
    run_id: row.run_id ?? '',
    tool_call_id: row.tool_call_id ?? '',
    approval: parseNullableJson<ToolCallApproval>(row.approval),
  };
}

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

  /** Replaces the reply's metadata while its run goes on (waiting for approval, resumed). */
  async setMetadata(input: { organizationId: string; messageId: string; metadata: JsonObject }): Promise<void> {
    await this.db
      .updateTable('chat_messages')
      .set({ metadata: JSON.stringify(input.metadata) })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.messageId)
      .execute();
  }

  /** A call that starts now (`running`) or waits for approval (`pending_approval`). */
  async startToolCall(call: NewToolCall): Promise<void> {
    const { approval, ...fields } = call;
    await this.db
      .insertInto('tool_calls')
      .values({
        ...fields,
        arguments: JSON.stringify(call.arguments),
        result: null,
        error: null,
        end_time: null,
        approval: approval === null ? null : JSON.stringify(approval),
        approval_expires_at: call.status === 'pending_approval' ? (approval?.expires_at ?? null) : null,
      })
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
        status: input.error === null ? 'completed' : 'failed',
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .execute();
  }

  /**
   * Records the decision on a call still `pending_approval`: approved (`running`, with the final
   * arguments) or rejected (ended with `error`). False when it was decided already: one decision
   * wins, in any process.
   */
  async decideToolCall(input: {
    organizationId: string;
    id: string;
    approval: ToolCallApproval;
    outcome: { status: 'running'; arguments: JsonObject } | { status: 'rejected'; error: string; endTime: string };
  }): Promise<boolean> {
    const { outcome } = input;
    const result = await this.db
      .updateTable('tool_calls')
      .set({
        status: outcome.status,
        approval: JSON.stringify(input.approval),
        approval_expires_at: null,
        ...(outcome.status === 'running'
          ? { arguments: JSON.stringify(outcome.arguments) }
          : { error: outcome.error, end_time: outcome.endTime }),
      })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('status', '=', 'pending_approval')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** An approved call starts running: its start is now. */
  async startApprovedToolCall(input: { organizationId: string; id: string; startTime: string }): Promise<void> {
    await this.db
      .updateTable('tool_calls')
      .set({ start_time: input.startTime })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .execute();
  }

  /** The calls of the run that still wait for a decision (read inside the deciding transaction). */
  async pendingApprovalCalls(input: { organizationId: string; runId: string }): Promise<RunToolCall[]> {
    const rows = await this.db
      .selectFrom('tool_calls')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('run_id', '=', input.runId)
      .where('status', '=', 'pending_approval')
      .orderBy('position')
      .execute();
    return rows.map(toolCallRowToRunToolCall);
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

  /** The calls a run made, with status and approval, in order. */
  async runToolCalls(input: { organizationId: string; runId: string }): Promise<RunToolCall[]> {
    const rows = await this.db
      .selectFrom('tool_calls')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('run_id', '=', input.runId)
      .orderBy('position')
      .execute();
    return rows.map(toolCallRowToRunToolCall);
  }

  /** Pending approvals past their deadline, in any organisation, oldest deadline first. */
  async expiredApprovals(input: { now: string; limit: number }): Promise<ExpiredApproval[]> {
    const rows = await this.db
      .selectFrom('tool_calls')
      .select(['organization_id', 'run_id', 'tool_call_id'])
      .where('status', '=', 'pending_approval')
      .where('approval_expires_at', '<=', input.now)
      .orderBy('approval_expires_at')
      .limit(input.limit)
      .execute();
    return rows.flatMap((row) =>
      row.run_id === null || row.tool_call_id === null
        ? []
        : [{ organizationId: row.organization_id, runId: row.run_id, toolCallId: row.tool_call_id }],
    );
  }
}
