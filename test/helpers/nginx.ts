import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server-process.js';

/**
 * Debian's nginx in front of test servers, running the server block Parley ships
 * (`deploy/nginx/parley.conf`) unchanged but for its `listen` port, with an `upstream parley`
 * listing the given loopback ports round-robin (as deploy/nginx/upstream.conf lists compose's
 * services). Default buffering: nothing in the shipped block turns it off.
 */
export const NGINX_BINARY = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((candidate) => fs.existsSync(candidate));
const SHIPPED = path.resolve(import.meta.dirname, '../../deploy/nginx/parley.conf');

export interface Nginx {
  baseUrl: string;
  /** Rewrites the upstream list and reloads (SIGHUP): used to add or drop a process. */
  setUpstreams(ports: readonly number[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startNginx(upstreamPorts: readonly number[]): Promise<Nginx> {
  if (NGINX_BINARY === undefined) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-nginx-'));
  const port = await freePort();
  const shipped = fs
    .readFileSync(SHIPPED, 'utf8')
    .replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^\s*listen \[::\]:8080;$/m, '');
  fs.writeFileSync(path.join(directory, 'parley.conf'), shipped);
  const writeUpstreams = (ports: readonly number[]) =>
    fs.writeFileSync(
      path.join(directory, 'upstream.conf'),
      `upstream parley {\n${ports.map((p) => `  server 127.0.0.1:${p} max_fails=0;\n`).join('')}  keepalive 32;\n  keepalive_timeout 60s;\n}\n`,
    );
  writeUpstreams(upstreamPorts);
  fs.writeFileSync(
    path.join(directory, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${path.join(directory, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      `  include ${path.join(directory, 'upstream.conf')};`,
      `  include ${path.join(directory, 'parley.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', directory, '-c', path.join(directory, 'nginx.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
    try {
      await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    baseUrl,
    async setUpstreams(ports) {
      writeUpstreams(ports);
      child.kill('SIGHUP');
      // The master re-reads the configuration and starts new workers; old ones finish their requests.
      await new Promise((resolve) => setTimeout(resolve, 300));
    },
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
