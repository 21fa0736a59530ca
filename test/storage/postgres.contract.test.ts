import { describe, it } from 'vitest';
import { openStore } from '../../src/storage/store.js';
import { describeStoreContract } from './contract/store-contract.js';
import { createTestDatabase, POSTGRES_CONFIGURED, withPostgresAdmin } from '../helpers/test-database.js';

if (POSTGRES_CONFIGURED) {
  describeStoreContract('postgres', () => createTestDatabase('postgres'));

  describe('postgres pool', () => {
    it('survives the server ending its idle connections', async () => {
      const database = await createTestDatabase('postgres');
      const store = await openStore(database.target);
      try {
        await store.ping();
        const name = new URL(database.target.kind === 'postgres' ? database.target.connectionString : '').pathname;
        await withPostgresAdmin((admin) =>
          admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name.slice(1)]),
        );
        // Let the server's FATAL reach the idle client: unheard, the pool's 'error' would crash the run.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await store.ping();
      } finally {
        await store.close();
        await database.destroy();
      }
    });
  });
}
