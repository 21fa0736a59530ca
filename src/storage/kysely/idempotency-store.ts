import type { IdempotencyRow } from '../schema.js';
import type { Executor } from './executor.js';

export class IdempotencyReader {
  constructor(private readonly db: Executor) {}

  async find(input: { organizationId: string; key: string; now: string }): Promise<IdempotencyRow | null> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('organization_id', '=', input.organizationId)
      .where('key', '=', input.key)
      .where('expires_at', '>', input.now)
      .executeTakeFirst();
    return row ?? null;
  }
}

export class IdempotencyWriter {
  constructor(private readonly db: Executor) {}

  /**
   * Records the response in the same transaction as the work it describes. Returns false when a
   * live record for this key already exists (a concurrent request with the same key won).
   */
  async record(row: IdempotencyRow): Promise<boolean> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('organization_id', '=', row.organization_id)
      .where('key', '=', row.key)
      .where('expires_at', '<=', row.created_at)
      .execute();
    const result = await this.db
      .insertInto('idempotency_keys')
      .values(row)
      .onConflict((conflict) => conflict.columns(['organization_id', 'key']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async deleteExpired(now: string): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
