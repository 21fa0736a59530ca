import crypto from 'node:crypto';
import { BLANK_TEMPLATE } from './ids.js';
import { startNginx, type Nginx } from './nginx.js';
import { freePort, startServer, type ServerProcess } from './server-process.js';
import { httpJson, type ThreadRef } from './sse-client.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/**
 * Parley deployed the way docs/deploy.md says: N `parley serve` processes on one PostgreSQL
 * database and one Redis, sharing one root secret, behind nginx running the shipped server block.
 * Each process keeps its port across restarts, so nginx's upstream list never changes.
 */
export const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Cluster {
  /** Through nginx. */
  baseUrl: string;
  key: string;
  nginx: Nginx;
  processes: ServerProcess[];
  env: Record<string, string>;
  /** Kills process `index` (SIGKILL) and waits for it to exit. */
  kill(index: number): Promise<void>;
  /** SIGTERM to process `index`; resolves with its exit code. */
  stop(index: number): Promise<number | null>;
  /** Starts process `index` again on its port. */
  restart(index: number): Promise<ServerProcess>;
  destroy(): Promise<void>;
}

export async function startCluster(options: { size: number; env?: Record<string, string> }): Promise<Cluster> {
  const database: TestDatabase = await createTestDatabase('postgres');
  if (database.target.kind !== 'postgres') throw new Error('the cluster runs on PostgreSQL');
  const env: Record<string, string> = {
    DATABASE_URL: database.target.connectionString,
    REDIS_URL,
    PARLEY_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: '3000',
    PROCESS_HEARTBEAT_MS: '500',
    ...options.env,
  };
  const ports = await Promise.all(Array.from({ length: options.size }, () => freePort()));
  const processes: ServerProcess[] = [];
  // The first start creates the organisation and its admin key; the others find them.
  processes.push(await startServer({ ...env, LOG_LEVEL: 'info' }, { port: ports[0]! }));
  const key = processes[0]!.key;
  if (key === null) throw new Error(`no bootstrap key:\n${processes[0]!.output()}`);
  processes.push(...(await Promise.all(ports.slice(1).map((port) => startServer(env, { port })))));
  const nginx = await startNginx(ports);

  const running = (server: ServerProcess) => server.child.exitCode === null && server.child.signalCode === null;
  const cluster: Cluster = {
    baseUrl: nginx.baseUrl,
    key,
    nginx,
    processes,
    env,
    async kill(index) {
      processes[index]!.child.kill('SIGKILL');
      await processes[index]!.exited;
    },
    async stop(index) {
      processes[index]!.child.kill('SIGTERM');
      return processes[index]!.exited;
    },
    async restart(index) {
      if (running(processes[index]!)) throw new Error(`process ${index} is still running`);
      processes[index] = await startServer(env, { port: ports[index]! });
      return processes[index]!;
    },
    async destroy() {
      await nginx.stop();
      await Promise.all(
        processes.filter(running).map((server) => {
          server.child.kill('SIGTERM');
          return server.exited;
        }),
      );
      await database.destroy();
    },
  };
  return cluster;
}

/** A new agent and thread, created through `base` (a process or nginx); the ref reads through `base`. */
export async function newThread(base: string, key: string): Promise<ThreadRef> {
  const agent = await httpJson(base, key, 'POST', '/api/v1/agents', {
    name: 'cluster',
    configuration: {},
    template_id: BLANK_TEMPLATE,
  });
  if (agent.status !== 200) throw new Error(`create agent: ${agent.status} ${JSON.stringify(agent.body)}`);
  const thread = await httpJson(base, key, 'POST', `/api/v1/chat/${agent.body.id}/threads`, { title: 'cluster' });
  if (thread.status !== 200) throw new Error(`create thread: ${thread.status} ${JSON.stringify(thread.body)}`);
  return { base, key, agentId: agent.body.id, threadId: thread.body.id };
}
