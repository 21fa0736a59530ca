import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../../src/storage/kysely/database.js';
import { openStore, type Store } from '../../../src/storage/store.js';
import type { TestDatabase } from '../../helpers/test-database.js';
import { describeAccountCases } from './contract-accounts.js';
import { describeAgentCases } from './contract-agents.js';
import { describeIsolationCases } from './contract-isolation.js';
import { describeMessageCases } from './contract-messages.js';
import { describeProcessCases } from './contract-processes.js';
import { describeRuntimeCases } from './contract-runtime.js';
import { describeThreadCases } from './contract-threads.js';
import { describeToolCallAuditCases } from './contract-tool-calls.js';
import { describeToolCases } from './contract-tools.js';
import { describeWidgetCases } from './contract-widget.js';
import { describeWebhookCases } from './contract-webhooks.js';
import { describeWriteCases } from './contract-writes.js';
import { agentInput, randomId, threadInput, uniqueName, at, type ContractFixture } from './fixtures.js';

/**
 * The storage contract: one suite that every dialect runs (guideline 6). Cases go through the
 * Store API only — readers and `store.write` — except that cascades are counted with raw SQL on a
 * second handle. One database serves the whole suite; each case works in its own organisations,
 * which the isolation cases show is enough to keep them apart.
 */
export function describeStoreContract(name: string, openTestDatabase: () => Promise<TestDatabase>): void {
  describe(`storage contract: ${name}`, () => {
    let database: TestDatabase | undefined;
    let store: Store | undefined;
    let inspection: DatabaseHandle | undefined;

    const fixture: ContractFixture = {
      get store() {
        if (!store) throw new Error('The contract database is not open');
        return store;
      },
      get inspector() {
        if (!inspection) throw new Error('The contract database is not open');
        return inspection.reader;
      },
      async newOrganization() {
        return fixture.store.write(async (writers) => {
          const organization = await writers.organizations.ensure({
            id: randomId(),
            name: uniqueName('contract-org'),
            now: at(0),
          });
          const user = await writers.organizations.ensureUser({
            id: randomId(),
            organizationId: organization.id,
            name: 'contract-user',
            now: at(0),
          });
          return { organizationId: organization.id, userId: user.id };
        });
      },
      newAgent(organizationId, overrides = {}) {
        return fixture.store.write((writers) => writers.agents.insert(agentInput(organizationId, overrides)));
      },
      async newThread(input) {
        const thread = threadInput(input);
        const inserted = await fixture.store.write((writers) => writers.threads.insert(thread));
        if (!inserted) throw new Error(`The store refused thread ${thread.id} for agent ${thread.agent_id}`);
        return inserted;
      },
    };

    beforeAll(async () => {
      database = await openTestDatabase();
      store = await openStore(database.target);
      inspection = openDatabase(database.target, { postgresPoolSize: 2 });
    });

    afterAll(async () => {
      // The store first: closing SQLite checkpoints the WAL, which waits for other connections.
      await store?.close();
      await inspection?.close();
      await database?.destroy();
    });

    describeAccountCases(fixture);
    describeAgentCases(fixture);
    describeThreadCases(fixture);
    describeMessageCases(fixture);
    describeIsolationCases(fixture);
    describeWriteCases(fixture);
    describeRuntimeCases(fixture);
    describeProcessCases(fixture);
    describeToolCases(fixture);
    describeToolCallAuditCases(fixture);
    describeWidgetCases(fixture);
    describeWebhookCases(fixture);
  });
}
