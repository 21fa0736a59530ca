import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLANK_TEMPLATE } from '../helpers/ids.js';
import { runCli, startServer } from '../helpers/server-process.js';

let directory: string;
let env: Record<string, string>;

beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-cli-'));
  // A relative sqlite: path is resolved against the working directory.
  env = { DATABASE_URL: `sqlite:${path.join(directory, 'db', 'parley.db')}`, LOG_LEVEL: 'warn' };
});
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe('parley CLI', () => {
  it('migrate creates the database and is repeatable', async () => {
    const first = await runCli(['migrate'], env);
    expect(first).toMatchObject({ code: 0, stdout: 'migrations applied\n' });
    expect(fs.existsSync(path.join(directory, 'db', 'parley.db'))).toBe(true);
    expect((await runCli(['migrate'], env)).code).toBe(0);
  });

  it('keys create prints only the key, and the key works against a running server', async () => {
    const created = await runCli(['keys', 'create', '--org', 'acme', '--user', 'alice', '--scopes', 'read'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^pk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}\n$/);
    const key = created.stdout.trim();

    const server = await startServer(env);
    try {
      // Organisations existed already, so no bootstrap key was printed.
      expect(server.key).toBeNull();
      const agents = await fetch(`${server.baseUrl}/api/v1/agents`, { headers: { 'x-api-key': key } });
      expect(agents.status).toBe(200);
      expect(await agents.json()).toEqual([]);
      const write = await fetch(`${server.baseUrl}/api/v1/agents`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'a', configuration: {}, template_id: BLANK_TEMPLATE }),
      });
      expect(write.status).toBe(403);

      const listed = await runCli(['keys', 'list'], env);
      expect(listed.code).toBe(0);
      const row = listed.stdout.split('\n').find((line) => line.includes('\tacme\t'));
      expect(row).toBeDefined();
      expect(listed.stdout).not.toContain(key);
      const keyId = row!.split('\t')[0]!;

      const revoked = await runCli(['keys', 'revoke', keyId], env);
      expect(revoked).toEqual({ code: 0, stdout: `revoked ${keyId}\n`, stderr: '' });
      // The server caches a verified key for AUTH_CACHE_TTL_MS (default 5 s); this server ran with it.
      await new Promise((resolve) => setTimeout(resolve, 5_100));
      const after = await fetch(`${server.baseUrl}/api/v1/agents`, { headers: { 'x-api-key': key } });
      expect(after.status).toBe(401);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });

  it('rejects bad usage with exit code 2 and a message', async () => {
    expect(await runCli(['keys', 'create'], env)).toMatchObject({ code: 2 });
    expect((await runCli(['keys', 'create', '--org', 'x', '--scopes', 'root'], env)).stderr).toContain('--scopes');
    expect(await runCli(['frobnicate'], env)).toMatchObject({ code: 2 });
    const badConfig = await runCli(['migrate'], { ...env, DATABASE_URL: 'mysql://x' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('DATABASE_URL');
  });

  it('does not start with an MCP_SERVERS_FILE it cannot use, and says why', async () => {
    const file = path.join(directory, 'mcp-servers.yaml');
    const agent = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    fs.writeFileSync(
      file,
      `servers:\n  - { name: tools, organization: no-such-org, agents: ['${agent}'], command: node }\n`,
    );
    const unknown = await runCli(['serve'], { ...env, PORT: '0', MCP_SERVERS_FILE: file });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'parley: Invalid configuration: MCP_SERVERS_FILE servers[0] ("tools"): organization: no organisation "no-such-org"',
    );
    fs.writeFileSync(file, `servers:\n  - { name: tools, agents: ['${agent}'] }\n`);
    const incomplete = await runCli(['serve'], { ...env, PORT: '0', MCP_SERVERS_FILE: file });
    expect(incomplete.code).toBe(2);
    expect(incomplete.stderr).toContain(`MCP_SERVERS_FILE (${file}) servers[0] ("tools"): command: is required`);
  });
});

describe('first start', () => {
  it('creates the default organisation and prints an admin key once', async () => {
    const fresh = { DATABASE_URL: `sqlite:${path.join(directory, 'fresh.db')}`, LOG_LEVEL: 'warn' };
    const server = await startServer(fresh);
    let key: string | null;
    try {
      key = server.key;
      expect(key).not.toBeNull();
      const keys = await fetch(`${server.baseUrl}/api/v1/api-keys`, { headers: { 'x-api-key': key! } });
      expect(keys.status).toBe(200);
      const listed = (await keys.json()) as { scopes: string[] }[];
      expect(listed).toHaveLength(1);
      expect(listed[0]!.scopes).toEqual(['read', 'write', 'admin']);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
    const again = await startServer(fresh);
    try {
      expect(again.key).toBeNull();
      expect(again.output()).not.toContain(key!);
    } finally {
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    }
  });
});
