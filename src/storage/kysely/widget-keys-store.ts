import { sql } from 'kysely';
import type { NewWidgetKey, WidgetKey, WidgetKeyCredential } from '../../domain/widget.js';
import type { WidgetKeyRow } from './schema.js';
import { parseJson, type Executor } from './executor.js';
import { insertUnderAgent } from './insert-under-agent.js';

function widgetKeyRowToWidgetKey(row: WidgetKeyRow): WidgetKey {
  return {
    id: row.id,
    organization_id: row.organization_id,
    agent_id: row.agent_id,
    name: row.name,
    prefix: `pwk_${row.key_id}_`,
    allowed_origins: parseJson<string[]>(row.allowed_origins),
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

/** `%` and `_` are LIKE's wildcards, `\` its escape here: an origin is matched as written. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

export class WidgetKeyReader {
  constructor(private readonly db: Executor) {}

  async list(input: { organizationId: string; agentId?: string | undefined }): Promise<WidgetKey[]> {
    let query = this.db.selectFrom('widget_keys').selectAll().where('organization_id', '=', input.organizationId);
    if (input.agentId !== undefined) query = query.where('agent_id', '=', input.agentId);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return rows.map(widgetKeyRowToWidgetKey);
  }

  async get(input: { organizationId: string; id: string }): Promise<WidgetKey | null> {
    const row = await this.db
      .selectFrom('widget_keys')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? widgetKeyRowToWidgetKey(row) : null;
  }

  /**
   * Session minting finds a key by the public id inside it, before it knows the organisation
   * (as API-key authentication does); the caller compares the whole key's hash.
   */
  async findCredential(keyId: string): Promise<WidgetKeyCredential | null> {
    const row = await this.#credentials().where('key_id', '=', keyId).executeTakeFirst();
    return row ? { ...row, allowed_origins: parseJson<string[]>(row.allowed_origins) } : null;
  }

  /** The credential of a key by its row id, within its organisation (identify, token checks). */
  async getCredential(input: { organizationId: string; id: string }): Promise<WidgetKeyCredential | null> {
    const row = await this.#credentials()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? { ...row, allowed_origins: parseJson<string[]>(row.allowed_origins) } : null;
  }

  /**
   * Whether an active widget key allows `origin`: a key of `agentId`, or of any agent when it is
   * null (the widget's own routes, whose path names no agent). The text match narrows the rows;
   * the exact comparison is made on the parsed list.
   */
  async originAllowed(input: { origin: string; agentId: string | null }): Promise<boolean> {
    let query = this.db
      .selectFrom('widget_keys')
      .select('allowed_origins')
      .where('revoked_at', 'is', null)
      .where(sql<boolean>`allowed_origins like ${`%${likeLiteral(JSON.stringify(input.origin))}%`} escape '\\'`);
    if (input.agentId !== null) query = query.where('agent_id', '=', input.agentId);
    const rows = await query.limit(50).execute();
    return rows.some((row) => parseJson<string[]>(row.allowed_origins).includes(input.origin));
  }

  #credentials() {
    return this.db
      .selectFrom('widget_keys')
      .select(['id', 'organization_id', 'agent_id', 'key_hash', 'identity_secret', 'allowed_origins', 'revoked_at']);
  }
}

export class WidgetKeyWriter {
  constructor(private readonly db: Executor) {}

  /** Inserts the key only if its agent exists in the same organisation; null when it does not. */
  async insert(key: NewWidgetKey): Promise<WidgetKey | null> {
    const row: WidgetKeyRow = {
      id: key.id,
      organization_id: key.organization_id,
      agent_id: key.agent_id,
      name: key.name,
      key_id: key.key_id,
      key_hash: key.key_hash,
      identity_secret: key.identity_secret,
      allowed_origins: JSON.stringify(key.allowed_origins),
      created_by_user_id: key.created_by_user_id,
      created_at: key.created_at,
      updated_at: key.created_at,
      revoked_at: null,
    };
    const result = await insertUnderAgent(this.db, 'widget_keys', row).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 ? widgetKeyRowToWidgetKey(row) : null;
  }

  /** Marks the key revoked (once); `organizationId` null is the operator's CLI. Null when there is no such key. */
  async revoke(input: { organizationId: string | null; id: string; now: string }): Promise<WidgetKey | null> {
    let update = this.db
      .updateTable('widget_keys')
      .set({ revoked_at: input.now, updated_at: input.now })
      .where('id', '=', input.id)
      .where('revoked_at', 'is', null);
    if (input.organizationId !== null) update = update.where('organization_id', '=', input.organizationId);
    await update.execute();
    let select = this.db.selectFrom('widget_keys').selectAll().where('id', '=', input.id);
    if (input.organizationId !== null) select = select.where('organization_id', '=', input.organizationId);
    const row = await select.executeTakeFirst();
    return row ? widgetKeyRowToWidgetKey(row) : null;
  }
}
