import type { AuditedToolCall, ToolCallFilter } from '../../domain/runs.js';
import { validationError } from '../../errors.js';
import type { Store } from '../../storage/store.js';

export interface ToolCallPage {
  tool_calls: AuditedToolCall[];
  total_count: number;
  page: number;
  page_size: number;
  has_more: boolean;
}

/** The audit list of an organisation's tool calls, across its threads. */
export class ToolCallsService {
  constructor(private readonly store: Store) {}

  /**
   * One page, newest first. `from` and `to` may carry any offset; they are compared as UTC, the
   * form `start_time` is stored in. An agent of another organisation is a filter that matches
   * nothing, as in the list of flow executions.
   */
  async list(input: ToolCallFilter & { page: number; pageSize: number }): Promise<ToolCallPage> {
    const { page, pageSize, ...filter } = input;
    const from = filter.from === undefined ? undefined : new Date(filter.from).toISOString();
    const to = filter.to === undefined ? undefined : new Date(filter.to).toISOString();
    if (from !== undefined && to !== undefined && from > to) {
      throw validationError(['query', 'to'], 'Input should not be before `from`');
    }
    const { toolCalls, total } = await this.store.toolCalls.list({
      ...filter,
      from,
      to,
      limit: pageSize,
      offset: (page - 1) * pageSize,
    });
    return { tool_calls: toolCalls, total_count: total, page, page_size: pageSize, has_more: page * pageSize < total };
  }
}
