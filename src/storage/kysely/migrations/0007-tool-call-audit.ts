import type { Kysely } from 'kysely';

/**
 * Indexes for the audit list of tool calls (GET /api/v1/tool-calls), which reads an
 * organisation's calls newest `start_time` first:
 *
 * - `tool_calls_organization_started`: every list, and the `from`/`to` range, without a sort.
 * - `tool_calls_organization_status` and `tool_calls_organization_tool`: the `status` and
 *   `tool_name` filters ("which calls failed today") stay a range scan within the match.
 * - The `agent_id` filter goes through the agent's threads (`chat_threads_agent_created`) and
 *   their calls (`tool_calls_thread`), both existing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('tool_calls_organization_started')
    .on('tool_calls')
    .columns(['organization_id', 'start_time', 'id'])
    .execute();
  await db.schema
    .createIndex('tool_calls_organization_status')
    .on('tool_calls')
    .columns(['organization_id', 'status', 'start_time'])
    .execute();
  await db.schema
    .createIndex('tool_calls_organization_tool')
    .on('tool_calls')
    .columns(['organization_id', 'tool_name', 'start_time'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('tool_calls_organization_tool').execute();
  await db.schema.dropIndex('tool_calls_organization_status').execute();
  await db.schema.dropIndex('tool_calls_organization_started').execute();
}
