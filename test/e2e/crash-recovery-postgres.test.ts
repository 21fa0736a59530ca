import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectInterrupted, startSlowReply } from '../helpers/interrupted-runs.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { pollUntil, storedExecution } from '../helpers/sse-client.js';
import pg from 'pg';
import { createTestDatabase, POSTGRES_CONFIGURED, type TestDatabase } from '../helpers/test-database.js';

/**
 * Issue 7, M5: on PostgreSQL several servers share the database, so a run is known dead only
 * when its server is. Each server beats in `server_processes`; a server that stops beating is
 * dead after three missed beats, and any live server fails its runs. The tests wait for that
 * with a deadline well under the 30-second thread lease and 60-second sweep that decided before,
 * then check the state.
 */
const RECOVERY_DEADLINE_MS = 15_000;
const TEST_TIMEOUT_MS = 60_000;

if (POSTGRES_CONFIGURED) {
  describe('crash recovery on PostgreSQL', () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    const servers: ServerProcess[] = [];

    beforeEach(async () => {
      database = await createTestDatabase('postgres');
      if (database.target.kind !== 'postgres') throw new Error('expected a PostgreSQL test database');
      env = {
        DATABASE_URL: database.target.connectionString,
        LOG_LEVEL: 'warn',
        DEMO_MODEL_WORDS_PER_SECOND: '2',
        SHUTDOWN_TIMEOUT_MS: '2500',
      };
    });

    afterEach(async () => {
      for (const server of servers.splice(0)) {
        if (server.child.exitCode === null && server.child.signalCode === null) {
          server.child.kill('SIGTERM');
          expect(await server.exited).toBe(0);
        }
      }
      // The killed server's row went with its runs; the others' went when they stopped cleanly.
      expect(await processRows()).toBe(0);
      await database.destroy();
    });

    async function processRows(): Promise<number> {
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      try {
        return (await client.query<{ count: number }>('select count(*)::int as count from server_processes')).rows[0]!
          .count;
      } finally {
        await client.end();
      }
    }

    async function start(): Promise<ServerProcess> {
      const server = await startServer(env);
      servers.push(server);
      return server;
    }

    async function kill(server: ServerProcess): Promise<void> {
      server.child.kill('SIGKILL');
      await server.exited;
    }

    function waitForFailure(thread: Parameters<typeof storedExecution>[0], runId: string) {
      return pollUntil(async () => ((await storedExecution(thread, runId)).status === 'failed' ? true : undefined), {
        timeoutMs: RECOVERY_DEADLINE_MS,
        intervalMs: 100,
        what: `run ${runId} to be failed`,
      });
    }

    it(
      'a server started after kill -9 fails the dead server’s run within seconds and frees its thread',
      async () => {
        const first = await start();
        const key = first.key!;
        const { thread, runId } = await startSlowReply(first, key);
        await kill(first);

        const restarted = await start();
        const observed = { ...thread, base: restarted.baseUrl };
        await waitForFailure(observed, runId);
        await expectInterrupted(observed, runId);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a surviving server fails the run of a server killed beside it within seconds and frees its thread',
      async () => {
        const victim = await start();
        const key = victim.key!;
        const survivor = await start();
        const { thread, runId } = await startSlowReply(victim, key);
        await kill(victim);

        const observed = { ...thread, base: survivor.baseUrl };
        await waitForFailure(observed, runId);
        await expectInterrupted(observed, runId);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
