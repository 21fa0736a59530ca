import type { Kysely } from 'kysely';

/**
 * Tools configured per agent through the API (issue 9).
 *
 * - `configuration`: JSON text, or null; secret values in it are sealed by the application
 *   before they reach this table, so the database never holds them in plain text.
 * - `is_enabled`: 0 or 1 (an integer both dialects share).
 * - Unique `(agent_id, tool_name)`: a name is what the model calls, so one agent cannot have two.
 *   Its index also serves the agent's list and the agent foreign key's cascade: deleting an
 *   agent deletes its tools.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agent_tools')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('organization_id', 'text', (column) =>
      column.notNull().references('organizations.id').onDelete('cascade'),
    )
    .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('tool_name', 'text', (column) => column.notNull())
    .addColumn('tool_type', 'text', (column) => column.notNull())
    .addColumn('configuration', 'text')
    .addColumn('is_enabled', 'integer', (column) => column.notNull())
    .addColumn('mcp_server_id', 'text')
    .addColumn('external_tool_connection_id', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addUniqueConstraint('agent_tools_agent_name_unique', ['agent_id', 'tool_name'])
    .execute();
  await db.schema.createIndex('agent_tools_organization').on('agent_tools').columns(['organization_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agent_tools').execute();
}
