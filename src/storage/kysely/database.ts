import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, type Migration } from 'kysely';
import type { Executor } from './executor.js';
import pg from 'pg';
import type { DatabaseTarget } from '../../config.js';
import type { Database } from './schema.js';
import * as initial from './migrations/0001-initial.js';
import * as runsAndEvents from './migrations/0002-runs-and-events.js';
import * as runCheckpoints from './migrations/0003-run-checkpoints.js';
import * as serverProcesses from './migrations/0004-server-processes.js';
import * as agentTools from './migrations/0005-agent-tools.js';
import * as toolCallStatus from './migrations/0006-tool-call-status.js';
import * as toolCallAudit from './migrations/0007-tool-call-audit.js';
import * as mcpServers from './migrations/0008-mcp-servers.js';
import * as knowledgeFiles from './migrations/0009-knowledge-files.js';
import * as webUsers from './migrations/0010-web-users.js';
import * as feedback from './migrations/0011-feedback.js';
import * as messageSearch from './migrations/0012-message-search.js';
import * as jobQueue from './migrations/0013-job-queue.js';
import * as usageAndQuotas from './migrations/0015-usage-and-quotas.js';
import * as flows from './migrations/0016-flows.js';
import * as webhooks from './migrations/0017-webhooks.js';
import * as webhookDeliveryRetention from './migrations/0022-webhook-delivery-retention.js';
import * as chunkSectionHeading from './migrations/0023-chunk-section-heading.js';
import * as jobQueuePartialIndexes from './migrations/0024-job-queue-partial-indexes.js';
import { GroupCommitWriter } from './group-commit.js';
import { PostgresGroupCommitWriter } from './postgres-group-commit.js';
import { ParleySqliteDialect } from './sqlite-driver.js';
import { listen, type Listening, type NotificationListener } from './postgres-listener.js';
import * as jobQueueNotify from './migrations/0025-job-queue-notify.js';

/**
 * The small adapter that holds every difference between the two dialects. Everything above it
 * (stores, services) is written once.
 *
 * - SQLite: one write connection whose transactions are grouped (see GroupCommitWriter), and a
 *   separate read connection, so readers only ever see committed data (WAL snapshots).
 * - PostgreSQL: one pool shared by readers and the writer; write units are grouped too, several
 *   batches at once on their own pooled clients (see PostgresGroupCommitWriter, ADR 0033).
 */
export interface DatabaseHandle {
  readonly dialect: 'sqlite' | 'postgres';
  /** Queries outside a write unit; sees only committed data. */
  readonly reader: Kysely<Database>;
  /** Runs `work` in a transaction and resolves after that transaction has committed. */
  write<T>(work: (db: Executor) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly diagnostics: DatabaseDiagnostics;
  /**
   * PostgreSQL: LISTENs on `channel` on a connection of its own, passing on the notifications
   * that other processes' transactions sent (this process's own writes are left out: it wakes
   * itself after its commits). SQLite: null — one process writes the file, nothing to listen to.
   */
  listenToOthers(channel: string, listener: NotificationListener): Listening | null;
}

/** What metrics read of the database layer (docs/observability.md). */
export interface DatabaseDiagnostics {
  /** PostgreSQL: the pool's connections now; null for SQLite (no pool). */
  pool(): { total: number; idle: number; waiting: number } | null;
  /** Calls `listener` with the number of write units of each group commit (SQLite's writer) until the returned stop. */
  onBatch(listener: (size: number) => void): () => void;
}

const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-runs-and-events': runsAndEvents,
  '0003-run-checkpoints': runCheckpoints,
  '0004-server-processes': serverProcesses,
  '0005-agent-tools': agentTools,
  '0006-tool-call-status': toolCallStatus,
  '0007-tool-call-audit': toolCallAudit,
  '0008-mcp-servers': mcpServers,
  '0009-knowledge-files': knowledgeFiles,
  '0010-web-users': webUsers,
  '0011-feedback': feedback,
  '0012-message-search': messageSearch,
  '0013-job-queue': jobQueue,
  '0015-usage-and-quotas': usageAndQuotas,
  '0016-flows': flows,
  '0017-webhooks': webhooks,
  '0022-webhook-delivery-retention': webhookDeliveryRetention,
  '0023-chunk-section-heading': chunkSectionHeading,
  '0024-job-queue-partial-indexes': jobQueuePartialIndexes,
  '0025-job-queue-notify': jobQueueNotify,
};

export function openDatabase(target: DatabaseTarget, options: { postgresPoolSize?: number } = {}): DatabaseHandle {
  return target.kind === 'sqlite'
    ? openSqlite(target.filename)
    : openPostgres(target.connectionString, options.postgresPoolSize ?? 10);
}

function openSqliteConnection(filename: string): BetterSqlite3.Database {
  const connection = new BetterSqlite3(filename);
  connection.pragma('journal_mode = WAL');
  // FULL: every commit syncs the WAL, so an acknowledged write survives power loss too.
  connection.pragma('synchronous = FULL');
  connection.pragma('busy_timeout = 5000');
  connection.pragma('foreign_keys = ON');
  return connection;
}

function openSqlite(filename: string): DatabaseHandle {
  if (filename !== ':memory:') fs.mkdirSync(path.dirname(filename), { recursive: true });
  const writeConnection = openSqliteConnection(filename);
  const writer = new Kysely<Database>({ dialect: new ParleySqliteDialect(writeConnection) });
  // An in-memory database exists only on its one connection, so it has no separate reader.
  const reader =
    filename === ':memory:'
      ? writer
      : new Kysely<Database>({ dialect: new ParleySqliteDialect(openSqliteConnection(filename)) });
  const groupCommit = new GroupCommitWriter(writeConnection);
  let closed = false;

  return {
    dialect: 'sqlite',
    diagnostics: { pool: () => null, onBatch: (listener) => groupCommit.onBatch(listener) },
    listenToOthers: () => null,
    reader,
    write: (work) => groupCommit.run(work),
    migrate: () => migrateToLatest(writer),
    ping: async () => {
      await sql`select 1`.execute(reader);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await groupCommit.drain();
      if (reader !== writer) await reader.destroy();
      // Fold the WAL back into the main file so a stopped server leaves one tidy file. Another
      // process using the file (a CLI command beside a running server) makes this busy: the WAL
      // then stays, which is correct, just less tidy.
      try {
        writeConnection.pragma('wal_checkpoint(TRUNCATE)');
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      }
      await writer.destroy();
    },
  };
}

function openPostgres(connectionString: string, poolSize: number): DatabaseHandle {
  // COUNT(*) and other bigints arrive as strings by default; our counts fit in a double.
  pg.types.setTypeParser(20, (value) => Number(value));
  const { readers, writers } = splitPool(poolSize);
  const pool = openPool({ connectionString, max: readers });
  // The writer's clients pipeline the statements of a batch's concurrent units (ADR 0033).
  const writePool = openPool({ connectionString, max: writers, pipeline: true });
  const database = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const groupCommit = new PostgresGroupCommitWriter(writePool, { maxConcurrentBatches: writers });
  // The backends of this process's writes: their notifications are this process's own.
  const writerBackends = new Set<number>();
  writePool.on('connect', (client) => void writerBackends.add(processIdOf(client)));
  writePool.on('remove', (client) => void writerBackends.delete(processIdOf(client)));
  let closed = false;
  return {
    dialect: 'postgres',
    diagnostics: {
      pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      onBatch: (listener) => groupCommit.onBatch(listener),
    },
    listenToOthers: (channel, listener) =>
      listen(connectionString, channel, {
        ...listener,
        onNotification: (processId) => {
          if (!writerBackends.has(processId)) listener.onNotification(processId);
        },
      }),
    reader: database,
    write: (work) => groupCommit.run(work),
    migrate: () => migrateToLatest(database),
    ping: async () => {
      await sql`select 1`.execute(database);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await groupCommit.drain();
      await database.destroy();
      await writePool.end();
    },
  };
}

/** The server process of a pooled client (pg sets `processID` on connect; its types omit it). */
function processIdOf(client: pg.PoolClient): number {
  return (client as unknown as { processID: number }).processID;
}

function openPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  // An idle connection that the server ends (restart, failover, pg_terminate_backend) makes the
  // pool emit 'error', which crashes the process when nobody listens (pg-pool 3.x). The pool has
  // already discarded that connection and the next query opens a fresh one; a query in flight
  // gets its own error. No request is there to report it to, so it goes to the operator's log.
  pool.on('error', (error) => {
    process.stderr.write(`parley: an idle PostgreSQL connection was closed by the server: ${error.message}\n`);
  });
  return pool;
}

/**
 * PG_POOL_SIZE connections split between reads and the group-commit writer's batches: half each
 * (a pipelined batch carries many writes, so a few suffice), at least one of each.
 */
function splitPool(poolSize: number): { readers: number; writers: number } {
  const writers = Math.max(1, Math.ceil(poolSize / 2));
  return { readers: Math.max(1, poolSize - writers), writers };
}

async function migrateToLatest(database: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db: database,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: 'parley_migrations',
    migrationLockTableName: 'parley_migration_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
