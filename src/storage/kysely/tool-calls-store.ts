import type { JsonObject } from '../../domain/models.js';
import type { AuditedToolCall, ToolCallApproval, ToolCallFilter, ToolCallStatus } from '../../domain/runs.js';
import { parseJson, parseNullableJson, type Executor } from './executor.js';
import type { ThreadRow, ToolCallRow } from './schema.js';

type AuditRow = ToolCallRow & Pick<ThreadRow, 'agent_id'>;

function auditRowToAuditedToolCall(row: AuditRow): AuditedToolCall {
  return {
    id: row.id,
    agent_id: row.agent_id,
    thread_id: row.thread_id,
    message_id: row.message_id,
    run_id: row.run_id,
    tool_call_id: row.tool_call_id,
    tool_name: row.tool_name,
    status: row.status as ToolCallStatus,
    arguments: parseJson<JsonObject>(row.arguments),
    result: parseNullableJson<unknown>(row.result),
    error: row.error,
    start_time: row.start_time,
    end_time: row.end_time,
    approval: parseNullableJson<ToolCallApproval>(row.approval),
  };
}

/** Tool calls across the threads of an organisation, for audits (GET /api/v1/tool-calls). */
export class ToolCallReader {
  constructor(private readonly db: Executor) {}

  /**
   * One page of the calls that match, newest `start_time` first, ties by id descending, and how
   * many match in all. The agent is the thread's: both tables are held to the organisation, so
   * another organisation's agent id matches nothing. Migration 0007's indexes serve each filter.
   */
  async list(
    input: ToolCallFilter & { limit: number; offset: number },
  ): Promise<{ toolCalls: AuditedToolCall[]; total: number }> {
    let query = this.db
      .selectFrom('tool_calls')
      .innerJoin('chat_threads', 'chat_threads.id', 'tool_calls.thread_id')
      .where('tool_calls.organization_id', '=', input.organizationId)
      .where('chat_threads.organization_id', '=', input.organizationId);
    if (input.agentId !== undefined) query = query.where('chat_threads.agent_id', '=', input.agentId);
    if (input.toolName !== undefined) query = query.where('tool_calls.tool_name', '=', input.toolName);
    if (input.status !== undefined) query = query.where('tool_calls.status', '=', input.status);
    if (input.from !== undefined) query = query.where('tool_calls.start_time', '>=', input.from);
    if (input.to !== undefined) query = query.where('tool_calls.start_time', '<=', input.to);
    const [rows, count] = await Promise.all([
      query
        .selectAll('tool_calls')
        .select('chat_threads.agent_id')
        .orderBy('tool_calls.start_time', 'desc')
        .orderBy('tool_calls.id', 'desc')
        .limit(input.limit)
        .offset(input.offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
    ]);
    return { toolCalls: rows.map(auditRowToAuditedToolCall), total: Number(count.count) };
  }
}
