import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLANK_TEMPLATE } from '../helpers/ids.js';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';

/** `parley keys create-widget` / `revoke-widget` against the database a running server uses. */

let directory: string;
let env: Record<string, string>;
let server: ServerProcess;
let agentId: string;

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-cli-widget-'));
  env = { DATABASE_URL: `sqlite:${path.join(directory, 'parley.db')}`, LOG_LEVEL: 'warn', AUTH_CACHE_TTL_MS: '0' };
  server = await startServer(env);
  const agent = await fetch(`${server.baseUrl}/api/v1/agents`, {
    method: 'POST',
    headers: { 'x-api-key': server.key!, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Shop assistant', configuration: {}, template_id: BLANK_TEMPLATE }),
  });
  agentId = ((await agent.json()) as { id: string }).id;
});
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  fs.rmSync(directory, { recursive: true, force: true });
});

const mint = (widgetKey: string, origin: string) =>
  fetch(`${server.baseUrl}/api/v1/widget/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ widget_key: widgetKey }),
  });

describe('parley keys create-widget', () => {
  it('prints the publishable key and identity secret once; the key mints sessions on the server', async () => {
    const created = await runCli(
      [
        'keys',
        'create-widget',
        '--agent',
        agentId,
        '--name',
        'Shop',
        '--origin',
        'https://shop.example',
        '--origin',
        'http://localhost:5173',
      ],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const lines = created.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^widget key [0-9a-f-]{36} for agent ${agentId} \\(https://shop\\.example, http://localhost:5173\\)$`),
    );
    const publishable = /^publishable key: (pwk_[0-9a-f]{32}_[\w-]{43})$/.exec(lines[1]!)?.[1];
    const secret = /^identity secret: (wis_[\w-]{43})$/.exec(lines[2]!)?.[1];
    expect(publishable).toBeDefined();
    expect(secret).toBeDefined();
    const widgetKeyId = /^widget key ([0-9a-f-]{36})/.exec(lines[0]!)![1]!;

    const session = await mint(publishable!, 'http://localhost:5173');
    expect(session.status).toBe(200);
    expect(await session.json()).toEqual({
      token: expect.any(String),
      anon_user_id: expect.any(String),
      agent_id: expect.any(String),
      expires_at: expect.any(String),
    });
    expect((await mint(publishable!, 'https://evil.example')).status).toBe(403);

    const revoked = await runCli(['keys', 'revoke-widget', widgetKeyId], env);
    expect(revoked).toEqual({ code: 0, stdout: `revoked ${widgetKeyId}\n`, stderr: '' });
    expect((await mint(publishable!, 'http://localhost:5173')).status).toBe(401);
  });

  it('refuses a missing origin, a bad origin and an unknown agent, with the usage', async () => {
    const noOrigin = await runCli(['keys', 'create-widget', '--agent', agentId, '--name', 'x'], env);
    expect({ code: noOrigin.code, first: noOrigin.stderr.split('\n')[0] }).toEqual({
      code: 2,
      first: 'parley: keys create-widget needs --origin ORIGIN',
    });
    const bad = await runCli(
      ['keys', 'create-widget', '--agent', agentId, '--name', 'x', '--origin', 'shop.example'],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--origin: Each allowed origin must be');
    const unknown = await runCli(
      [
        'keys',
        'create-widget',
        '--agent',
        '00000000-0000-4000-8000-000000000000',
        '--name',
        'x',
        '--origin',
        'https://a.example',
      ],
      env,
    );
    expect({ code: unknown.code, first: unknown.stderr.split('\n')[0] }).toEqual({
      code: 2,
      first: 'parley: no agent 00000000-0000-4000-8000-000000000000',
    });
  });
});
