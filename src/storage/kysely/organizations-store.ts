import type { Organization, User } from '../../domain/models.js';
import type { OrganizationRow, UserRow } from './schema.js';
import type { Executor } from './executor.js';

// The rows have the domain's shape today; the mappers keep a column added later from leaking out.
function organizationRowToOrganization(row: OrganizationRow): Organization {
  return { id: row.id, name: row.name, created_at: row.created_at };
}

function userRowToUser(row: UserRow): User {
  return { id: row.id, organization_id: row.organization_id, name: row.name, created_at: row.created_at };
}

export class OrganizationReader {
  constructor(private readonly db: Executor) {}

  async findByName(name: string): Promise<Organization | null> {
    const row = await this.db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? organizationRowToOrganization(row) : null;
  }

  async findById(id: string): Promise<Organization | null> {
    const row = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? organizationRowToOrganization(row) : null;
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async getUser(input: { organizationId: string; id: string }): Promise<User | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.id)
      .executeTakeFirst();
    return row ? userRowToUser(row) : null;
  }

  async findUser(organizationId: string, name: string): Promise<User | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? userRowToUser(row) : null;
  }
}

export class OrganizationWriter {
  constructor(private readonly db: Executor) {}

  /** Finds the organisation by name or creates it, inside the caller's transaction. */
  async ensure(input: { id: string; name: string; now: string }): Promise<Organization> {
    // Insert-or-ignore, then read: two processes creating the same name both end with one row.
    await this.db
      .insertInto('organizations')
      .values({ id: input.id, name: input.name, created_at: input.now })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    return (await new OrganizationReader(this.db).findByName(input.name))!;
  }

  async ensureUser(input: { id: string; organizationId: string; name: string; now: string }): Promise<User> {
    await this.db
      .insertInto('users')
      .values({ id: input.id, organization_id: input.organizationId, name: input.name, created_at: input.now })
      .onConflict((conflict) => conflict.columns(['organization_id', 'name']).doNothing())
      .execute();
    return (await new OrganizationReader(this.db).findUser(input.organizationId, input.name))!;
  }
}
