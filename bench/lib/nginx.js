import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Debian's nginx in front of local Parley processes, running the server block Parley ships
 * (`deploy/nginx/parley.conf`) unchanged but for its `listen` port, with an `upstream parley`
 * listing the given loopback ports round-robin (as deploy/nginx/upstream.conf lists compose's
 * services). Default buffering: nothing in the shipped block turns it off. Used by the cluster
 * e2e suite (test/helpers/nginx.ts) and `npm run bench:cluster`.
 */
export const NGINX_BINARY = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((candidate) => fs.existsSync(candidate));
const SHIPPED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/nginx/parley.conf');
const SHIPPED_UPSTREAM = path.join(path.dirname(SHIPPED), 'upstream.conf');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** deploy/nginx/upstream.conf's block with the given loopback ports as its servers (same keepalive settings). */
function upstreamBlock(ports) {
  const servers = ports.map((port) => `  server 127.0.0.1:${port} max_fails=0;\n`).join('');
  const settings = fs
    .readFileSync(SHIPPED_UPSTREAM, 'utf8')
    .split('\n')
    .filter((line) => /^\s*keepalive(_timeout)?\s/.test(line))
    .map((line) => `  ${line.trim()}\n`)
    .join('');
  if (!settings.includes('keepalive ')) throw new Error(`${SHIPPED_UPSTREAM}: no keepalive setting`);
  return `upstream parley {\n${servers}${settings}}\n`;
}

function mainConfig(directory) {
  return [
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
  ].join('\n');
}

async function untilAnswering(child, baseUrl, output) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${output()}`);
    try {
      await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Starts nginx over `upstreamPorts`; resolves once it answers. */
export async function startNginx(upstreamPorts) {
  if (NGINX_BINARY === undefined) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-nginx-'));
  const port = await freePort();
  const shipped = fs
    .readFileSync(SHIPPED, 'utf8')
    .replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^\s*listen \[::\]:8080;$/m, '');
  fs.writeFileSync(path.join(directory, 'parley.conf'), shipped);
  fs.writeFileSync(path.join(directory, 'upstream.conf'), upstreamBlock(upstreamPorts));
  fs.writeFileSync(path.join(directory, 'nginx.conf'), mainConfig(directory));
  const child = spawn(NGINX_BINARY, ['-p', directory, '-c', path.join(directory, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  await untilAnswering(child, baseUrl, () => output);
  return {
    baseUrl,
    pid: child.pid,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
