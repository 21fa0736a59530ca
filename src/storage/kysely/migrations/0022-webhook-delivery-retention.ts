import type { Kysely } from 'kysely';

/**
 * The retention sweep of the webhook delivery log (WEBHOOK_DELIVERY_RETENTION_DAYS,
 * docs/webhooks.md): it deletes finished deliveries (`delivered`, `failed`) by their last change,
 * a range this index serves without scanning the pending ones or the whole log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_finished')
    .on('webhook_deliveries')
    .columns(['status', 'updated_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_finished').execute();
}
