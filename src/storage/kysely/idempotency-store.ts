import type { IdempotencyRecord, RecordedResponse } from '../../domain/models.js';
import type { IdempotencyRow } from './schema.js';
import type { Executor } from './executor.js';

type RecordedColumns = Pick<IdempotencyRow, 'fingerprint' | 'status_code' | 'response_body'>;

function idempotencyRowToRecordedResponse(row: RecordedColumns): RecordedResponse {
  return { fingerprint: row.fingerprint, status_code: row.status_code, response_json: row.response_body };
}

function idempotencyRecordToRow(record: IdempotencyRecord): IdempotencyRow {
  return {
    organization_id: record.organization_id,
    key: record.key,
    fingerprint: record.fingerprint,
    status_code: record.status_code,
    response_body: JSON.stringify(record.body),
    created_at: record.created_at,
    expires_at: record.expires_at,
  };
}

export class IdempotencyReader {
  constructor(private readonly db: Executor) {}

  async find(input: { organizationId: string; key: string; now: string }): Promise<RecordedResponse | null> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'status_code', 'response_body'])
      .where('organization_id', '=', input.organizationId)
      .where('key', '=', input.key)
      .where('expires_at', '>', input.now)
      .executeTakeFirst();
    return row ? idempotencyRowToRecordedResponse(row) : null;
  }
}

export class IdempotencyWriter {
  constructor(private readonly db: Executor) {}

  /**
   * Records the response in the same transaction as the work it describes. Returns false when a
   * live record for this key already exists (a concurrent request with the same key won).
   */
  async record(record: IdempotencyRecord): Promise<boolean> {
    const row = idempotencyRecordToRow(record);
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
