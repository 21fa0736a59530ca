import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './server-process.js';
import { REDIS_SERVER_BINARY } from './redis-server.js';

const run = promisify(execFile);

export const REDIS_CLI_BINARY = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((candidate) =>
  fs.existsSync(candidate),
);

/** A private three-master Redis Cluster (no replicas), in a temp dir, on free loopback ports. */
export interface RedisCluster {
  /** `redis+cluster://` with the three nodes: what REDIS_URL is set to. */
  url: string;
  ports: number[];
  /** `redis-cli -p <port> <args…>` against one node (`-c`: following redirections). */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The port of the master that serves `key`'s slot (CLUSTER KEYSLOT, then CLUSTER NODES). */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the node on `port` (nothing kept: no RDB, no AOF); resolves once it has exited. */
  kill(port: number): Promise<void>;
  /**
   * Starts the node on `port` again, with its nodes.conf (same id, same slots); resolves once
   * every node reports `cluster_state:ok` (the others clear its FAIL flag, which for a master
   * that kept its slots takes twice the node timeout).
   */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** `cluster-node-timeout` (ms): how long a silent node takes to be marked failed. 5000 by default. */
  nodeTimeoutMs?: number;
}

/** A node's port must leave room for its cluster bus port (port + 10000). */
async function clusterPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && !taken.includes(port) && !taken.includes(port + 10_000)) return port;
  }
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  if (REDIS_SERVER_BINARY === undefined || REDIS_CLI_BINARY === undefined) throw new Error('redis is not installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-redis-cluster-'));
  const ports: number[] = [];
  for (let index = 0; index < 3; index++) ports.push(await clusterPort([...ports, ...ports.map((p) => p + 10_000)]));
  const nodeTimeout = String(options.nodeTimeoutMs ?? 5000);
  const spawnNode = (port: number) =>
    spawn(
      REDIS_SERVER_BINARY!,
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
        ...['--cluster-node-timeout', nodeTimeout, '--save', '', '--appendonly', 'no'],
      ],
      { stdio: 'ignore' },
    );
  const children = new Map<number, ChildProcess>(ports.map((port) => [port, spawnNode(port)]));
  const cli = async (port: number, ...args: string[]) =>
    (await run(REDIS_CLI_BINARY!, ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout.trim();
  const kill = (port: number) => {
    const child = children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  };
  const cluster: RedisCluster = {
    url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`,
    ports,
    cli,
    masterOf: (key) => masterOf(cli, ports, key),
    kill,
    async restart(port) {
      await kill(port);
      children.set(port, spawnNode(port));
      await untilAnswers(() => cli(port, 'ping'), 'PONG');
      for (const node of ports) await untilAnswers(() => cli(node, 'cluster', 'info'), 'cluster_state:ok');
    },
    async stop() {
      await Promise.all(ports.map(kill));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const port of ports) await untilAnswers(() => cli(port, 'ping'), 'PONG');
    await run(REDIS_CLI_BINARY, [
      ...['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`)],
      ...['--cluster-replicas', '0', '--cluster-yes'],
    ]);
    // Every node must agree the slots are covered before a client can be served.
    for (const port of ports) await untilAnswers(() => cli(port, 'cluster', 'info'), 'cluster_state:ok');
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** CLUSTER NODES lines: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges…>`. */
async function masterOf(cli: RedisCluster['cli'], ports: number[], key: string): Promise<number> {
  const asked = ports[0]!;
  const slot = Number(await cli(asked, 'cluster', 'keyslot', key));
  for (const line of (await cli(asked, 'cluster', 'nodes')).split('\n')) {
    const [, address, flags, , , , , , ...ranges] = line.split(' ');
    if (!flags?.split(',').includes('master')) continue;
    const serves = ranges.some((range) => {
      const [first, last = first] = range.split('-').map(Number);
      return slot >= first! && slot <= last!;
    });
    if (serves) return Number(address!.split('@')[0]!.split(':').at(-1));
  }
  throw new Error(`no master serves slot ${slot}`);
}

async function untilAnswers(ask: () => Promise<string>, expected: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await ask().catch(() => '');
    if (answer.includes(expected)) return;
    if (Date.now() > deadline) throw new Error(`the Redis cluster did not answer ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
