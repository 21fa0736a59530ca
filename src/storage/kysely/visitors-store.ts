import type { AnonymousUser, WidgetUser } from '../../domain/widget.js';
import type { Selectable } from 'kysely';
import type { AnonymousUserRow, WidgetUserRow } from './schema.js';
import type { Executor } from './executor.js';

export function widgetUserRowToWidgetUser(
  row: Omit<Selectable<WidgetUserRow>, 'organization_id' | 'external_user_id'>,
): WidgetUser {
  return {
    id: row.id,
    user_name: row.user_name,
    user_email: row.user_email,
    verified_user_name: row.verified_user_name,
    verified_user_email: row.verified_user_email,
    ip_address: row.ip_address,
    verified: Number(row.verified) === 1,
    identified_by_tool: Number(row.identified_by_tool) === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The anonymous users widget keys mint, and the widget users the host sites identify them as. */
export class VisitorReader {
  constructor(private readonly db: Executor) {}

  /**
   * The anonymous user a visitor token names, with whether its widget key is still active: what
   * every visitor request is checked against. Scoped by the organisation the token claims.
   */
  async findAnonymousUser(input: { organizationId: string; id: string }): Promise<AnonymousUser | null> {
    const row = await this.db
      .selectFrom('anonymous_users')
      .innerJoin('widget_keys', 'widget_keys.id', 'anonymous_users.widget_key_id')
      .select([
        'anonymous_users.id',
        'anonymous_users.organization_id',
        'anonymous_users.widget_key_id',
        'anonymous_users.agent_id',
        'anonymous_users.widget_user_id',
        'anonymous_users.token_generation',
        'widget_keys.revoked_at as widget_key_revoked_at',
      ])
      .where('anonymous_users.organization_id', '=', input.organizationId)
      .where('widget_keys.organization_id', '=', input.organizationId)
      .where('anonymous_users.id', '=', input.id)
      .executeTakeFirst();
    return row ? { ...row, token_generation: Number(row.token_generation) } : null;
  }

  async getWidgetUser(input: { organizationId: string; id: string }): Promise<WidgetUser | null> {
    const row = await this.db
      .selectFrom('widget_users')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? widgetUserRowToWidgetUser(row) : null;
  }
}

export class VisitorWriter {
  constructor(private readonly db: Executor) {}

  async insertAnonymousUser(row: Omit<AnonymousUserRow, 'token_generation'>): Promise<void> {
    await this.db
      .insertInto('anonymous_users')
      .values({ ...row, token_generation: 0 })
      .execute();
  }

  /**
   * Moves the anonymous user to the next token generation, only from `fromGeneration` (compare
   * and set): of two renewals with the same token, one wins. False when the token was already
   * renewed (or the user is gone).
   */
  async renew(input: {
    organizationId: string;
    id: string;
    widgetKeyId: string;
    fromGeneration: number;
    now: string;
  }): Promise<boolean> {
    const result = await this.db
      .updateTable('anonymous_users')
      .set({ token_generation: input.fromGeneration + 1, last_seen_at: input.now })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where('widget_key_id', '=', input.widgetKeyId)
      .where('token_generation', '=', input.fromGeneration)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * The widget user with this external id in the organisation, created if missing; name and
   * email are replaced by the latest identify call's (null leaves them as they are).
   */
  async upsertWidgetUser(input: {
    id: string;
    organizationId: string;
    externalUserId: string;
    name: string | null;
    email: string | null;
    ipAddress: string | null;
    now: string;
  }): Promise<WidgetUser> {
    await this.db
      .insertInto('widget_users')
      .values({
        id: input.id,
        organization_id: input.organizationId,
        external_user_id: input.externalUserId,
        user_name: input.name,
        user_email: input.email,
        verified_user_name: null,
        verified_user_email: null,
        ip_address: input.ipAddress,
        verified: 1,
        identified_by_tool: 0,
        created_at: input.now,
        updated_at: input.now,
      })
      .onConflict((conflict) =>
        conflict.columns(['organization_id', 'external_user_id']).doUpdateSet((eb) => ({
          user_name: eb.fn.coalesce(eb.val(input.name), 'widget_users.user_name'),
          user_email: eb.fn.coalesce(eb.val(input.email), 'widget_users.user_email'),
          verified: 1,
          updated_at: input.now,
        })),
      )
      .execute();
    const row = await this.db
      .selectFrom('widget_users')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('external_user_id', '=', input.externalUserId)
      .executeTakeFirstOrThrow();
    return widgetUserRowToWidgetUser(row);
  }

  /**
   * Links the anonymous user to the widget user, unless it is linked to another one already;
   * its threads not yet linked follow. False when it is linked to someone else (or is gone).
   */
  async linkAnonymousUser(input: { organizationId: string; id: string; widgetUserId: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('anonymous_users')
      .set({ widget_user_id: input.widgetUserId })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .where((eb) => eb.or([eb('widget_user_id', 'is', null), eb('widget_user_id', '=', input.widgetUserId)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await this.db
      .updateTable('chat_threads')
      .set({ widget_user_id: input.widgetUserId })
      .where('organization_id', '=', input.organizationId)
      .where('anon_user_id', '=', input.id)
      .where('widget_user_id', 'is', null)
      .execute();
    return true;
  }
}
