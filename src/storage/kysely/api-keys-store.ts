import type { ApiKey, ApiKeyCredential, NewApiKey, Scope } from '../../domain/models.js';
import type { ApiKeyRow } from './schema.js';
import type { Executor } from './executor.js';

function apiKeyRowToApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    organization_id: row.organization_id,
    user_id: row.user_id,
    name: row.name,
    prefix: `pk_${row.id.replaceAll('-', '')}_`,
    last_four: row.last_four,
    scopes: parseScopes(row.scopes),
    created_at: row.created_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
  };
}

function parseScopes(text: string): Scope[] {
  return text.split(',').filter((scope) => scope !== '') as Scope[];
}

/** Ids per `IN` list: far below SQLite's 32,766 bound parameters and PostgreSQL's 65,535. */
const CREDENTIALS_PER_QUERY = 500;

export class ApiKeyReader {
  constructor(private readonly db: Executor) {}

  /** Authentication looks a key up by its id before it knows the organisation. */
  async findCredential(id: string): Promise<ApiKeyCredential | null> {
    const row = await this.#credentials().where('id', '=', id).executeTakeFirst();
    return row ? { ...row, scopes: parseScopes(row.scopes) } : null;
  }

  /**
   * The credentials of many keys at once, in no particular order; unknown ids are left out. The
   * keys holding open streams are checked again this way, a few hundred ids per query.
   */
  async findCredentials(ids: readonly string[]): Promise<ApiKeyCredential[]> {
    const credentials: ApiKeyCredential[] = [];
    for (let start = 0; start < ids.length; start += CREDENTIALS_PER_QUERY) {
      const rows = await this.#credentials()
        .where('id', 'in', ids.slice(start, start + CREDENTIALS_PER_QUERY))
        .execute();
      for (const row of rows) credentials.push({ ...row, scopes: parseScopes(row.scopes) });
    }
    return credentials;
  }

  #credentials() {
    return this.db
      .selectFrom('api_keys')
      .select(['id', 'organization_id', 'user_id', 'key_hash', 'scopes', 'expires_at', 'revoked_at']);
  }

  async list(input: { organizationId: string }): Promise<ApiKey[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(apiKeyRowToApiKey);
  }

  /** Every key of every organisation, with the organisation's name: for the operator's CLI only. */
  async listAll(): Promise<(ApiKey & { organization_name: string })[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .innerJoin('organizations', 'organizations.id', 'api_keys.organization_id')
      .selectAll('api_keys')
      .select('organizations.name as organization_name')
      .orderBy('api_keys.created_at', 'asc')
      .execute();
    return rows.map((row) => ({ ...apiKeyRowToApiKey(row), organization_name: row.organization_name }));
  }

  async get(input: { organizationId: string; id: string }): Promise<ApiKey | null> {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? apiKeyRowToApiKey(row) : null;
  }
}

export class ApiKeyWriter {
  constructor(private readonly db: Executor) {}

  async insert(key: NewApiKey): Promise<ApiKey> {
    const row: ApiKeyRow = {
      id: key.id,
      organization_id: key.organization_id,
      user_id: key.user_id,
      name: key.name,
      key_hash: key.key_hash,
      last_four: key.last_four,
      scopes: key.scopes.join(','),
      created_at: key.created_at,
      expires_at: key.expires_at,
      revoked_at: null,
    };
    await this.db.insertInto('api_keys').values(row).execute();
    return apiKeyRowToApiKey(row);
  }

  /** Marks the key revoked; `organizationId` null means any organisation (the operator's CLI). */
  async revoke(input: { organizationId: string | null; id: string; now: string }): Promise<ApiKey | null> {
    let query = this.db
      .updateTable('api_keys')
      .set({ revoked_at: input.now })
      .where('id', '=', input.id)
      .where('revoked_at', 'is', null);
    if (input.organizationId !== null) query = query.where('organization_id', '=', input.organizationId);
    await query.execute();
    let select = this.db.selectFrom('api_keys').selectAll().where('id', '=', input.id);
    if (input.organizationId !== null) select = select.where('organization_id', '=', input.organizationId);
    const row = await select.executeTakeFirst();
    return row ? apiKeyRowToApiKey(row) : null;
  }
}
