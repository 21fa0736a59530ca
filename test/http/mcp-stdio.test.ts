import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { UNDECLARED_REASON } from '../../src/domain/mcp-servers.js';
import { stdioServerId } from '../../src/features/mcp/mcp-stdio-servers.js';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { client, createTestContext, type Api, type TestContext, type TestPeer } from '../helpers/harness.js';

/**
 * Stdio MCP servers from the operator's MCP_SERVERS_FILE (docs/mcp.md "Stdio servers"), with
 * `@modelcontextprotocol/server-everything` in its default stdio mode as the child process:
 * registration at start (stable ids, idempotent, undeclared rows), connect and tools, an agent
 * calling its tools through the scripted model, the child's environment, read-only rows, a
 * killed child started again, children stopped with the app, and files that stop the start.
 */

const EVERYTHING = path.resolve(
  import.meta.dirname,
  '../../node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);
const SAFE_DEFAULTS = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];

const models = growingRegistry('mcp-stdio');
let context: TestContext;
let folder: string;
const restore: Record<string, string | undefined> = {};

beforeAll(async () => {
  // Variables of Parley's own environment the child must never see.
  for (const [name, value] of [
    ['PARLEY_STDIO_CANARY', 'parley-secret-canary'],
    ['DATABASE_URL', 'postgres://canary@127.0.0.1/never'],
  ] as const) {
    restore[name] = process.env[name];
    process.env[name] = value;
  }
  context = await createTestContext({ models: models.registry });
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-stdio-'));
});
afterAll(async () => {
  await context?.close();
  for (const [name, value] of Object.entries(restore)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  fs.rmSync(folder, { recursive: true, force: true });
});

const serversUrl = (agentId: string) => `/api/v1/mcp/agents/${agentId}/servers`;

/** The pids of the server-everything children started with `marker` in their arguments. */
function childrenWith(marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

function writeFile(servers: Record<string, unknown>[], name = `servers-${randomUUID()}.yaml`): string {
  const file = path.join(folder, name);
  fs.writeFileSync(file, name.endsWith('.json') ? JSON.stringify({ servers }) : toYaml({ servers }));
  return file;
}

function everythingEntry(input: { name: string; organization: string; agents: string[]; marker: string }) {
  return {
    name: input.name,
    organization: input.organization,
    agents: input.agents,
    command: process.execPath,
    args: [EVERYTHING, 'stdio', input.marker],
    env: { EVERYTHING_MARKER: input.marker, CHILD_TOKEN: 'child-only-token-1234' },
  };
}

async function peerWith(file: string): Promise<TestPeer> {
  return context.peer({ mcp: { ...loadConfig({}).mcp, healthCheckIntervalMs: 0, serversFile: file } });
}

function peerApi(peer: TestPeer, key: string): Api {
  return client({ ...context, parley: peer.parley }, key);
}

async function setup(configuration: Record<string, unknown> = {}) {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const agent = await api.createAgent({ configuration });
  const marker = `parley-stdio-${randomUUID()}`;
  const name = `everything-${marker.slice(-8)}`;
  const entry = everythingEntry({ name, organization: organization.organizationId, agents: [agent.id], marker });
  return { organization, agent, marker, name, entry };
}

describe('stdio servers declared in MCP_SERVERS_FILE', () => {
  it('are registered at start, connect, sync tools, and serve an agent; the child sees only its own environment', async () => {
    const model = models.script([
      callTools(
        { name: 'echo', input: { message: 'over stdio' }, id: 'echo' },
        { name: 'get-env', input: {}, id: 'env' },
      ),
      say('Done.'),
    ]);
    const { organization, agent, marker, name, entry } = await setup({ model: model.id });
    const peer = await peerWith(writeFile([entry]));
    const api = peerApi(peer, organization.key);
    const id = stdioServerId({ organizationId: organization.organizationId, agentId: agent.id, name });

    const listed = await api.get(serversUrl(agent.id));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      expect.objectContaining({ id, name, url: `stdio:${name}`, status: 'registered', auth_config: null }),
    ]);
    // Registering starts nothing.
    expect(childrenWith(marker)).toEqual([]);

    const connect = await api.post(`${serversUrl(agent.id)}/${id}/connect`, undefined);
    expect(connect.status, connect.raw).toBe(200);
    expect(connect.body).toEqual({ status: 'success', message: 'Connection successful', authorization_url: null });
    expect(childrenWith(marker)).toHaveLength(1);
    const tools = (await api.get(`${serversUrl(agent.id)}/${id}/tools`)).body as { tool_name: string }[];
    expect(tools.map((tool) => tool.tool_name)).toEqual(expect.arrayContaining(['echo', 'get-env', 'get-sum']));
    expect((await api.get(`${serversUrl(agent.id)}/${id}`)).body.status).toBe('connected');

    const thread = await api.createThread(agent.id);
    const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'Go.',
    });
    expect(reply.status, reply.raw).toBe(200);
    const messages = await api.get(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages?limit=100`);
    const calls = Object.fromEntries(
      (messages.body[1].tool_calls as { tool_name: string }[]).map((call) => [call.tool_name, call]),
    ) as Record<string, any>;
    expect(calls.echo).toMatchObject({
      arguments: { message: 'over stdio' },
      result: { content: [{ type: 'text', text: 'Echo: over stdio' }] },
      error: null,
    });
    const environment = JSON.parse(calls['get-env'].result.content[0].text) as Record<string, string>;
    expect(
      Object.keys(environment)
        .filter((key) => !SAFE_DEFAULTS.includes(key))
        .sort(),
    ).toEqual(['CHILD_TOKEN', 'EVERYTHING_MARKER']);
    expect(environment.EVERYTHING_MARKER).toBe(marker);
    expect(JSON.stringify(environment)).not.toMatch(/canary|PARLEY_|DATABASE_URL/);

    await peer.close();
    // The child went with the app.
    expect(childrenWith(marker)).toEqual([]);
    // Its stderr reached the log, at debug.
    const stderr = context.logs
      .map((line) => JSON.parse(line) as { msg?: string; mcpServer?: string; stderr?: string; level?: number })
      .filter((entry) => entry.msg === 'MCP stdio server stderr' && entry.mcpServer === name);
    expect(stderr).toContainEqual(expect.objectContaining({ level: 20, stderr: 'Starting default (STDIO) server...' }));
  });

  it('are read-only to the API, and the API cannot create one', async () => {
    const { organization, agent, name, entry } = await setup();
    const peer = await peerWith(writeFile([entry]));
    const api = peerApi(peer, organization.key);
    const id = stdioServerId({ organizationId: organization.organizationId, agentId: agent.id, name });
    const put = await api.put(`${serversUrl(agent.id)}/${id}`, { name: 'renamed' });
    expect({ status: put.status, code: put.body.code }).toEqual({ status: 409, code: 'mcp_server_read_only' });
    const removed = await api.delete(`${serversUrl(agent.id)}/${id}`);
    expect({ status: removed.status, code: removed.body.code }).toEqual({ status: 409, code: 'mcp_server_read_only' });
    const created = await api.post(serversUrl(agent.id), { name: 'sneaky', url: `stdio:${name}` });
    expect({ status: created.status, loc: created.body.detail[0].loc }).toEqual({ status: 422, loc: ['body', 'url'] });
    const shell = await api.post(serversUrl(agent.id), { name: 'sneaky', url: 'stdio:sh -c "touch /tmp/x"' });
    expect(shell.status).toBe(422);
    expect((await api.get(serversUrl(agent.id))).body.map((server: { id: string }) => server.id)).toEqual([id]);
    await peer.close();
  });

  it('keep their ids and tools across restarts and concurrent starts; undeclared ones are marked and come back', async () => {
    const model = models.script([say('Nothing to call.')]);
    const { organization, agent, marker, name, entry } = await setup({ model: model.id });
    const file = writeFile([entry]);
    const id = stdioServerId({ organizationId: organization.organizationId, agentId: agent.id, name });
    const first = await peerWith(file);
    let api = peerApi(first, organization.key);
    expect((await api.post(`${serversUrl(agent.id)}/${id}/connect`, undefined)).status).toBe(200);
    const echo = (await api.get(`${serversUrl(agent.id)}/${id}/tools`)).body.find(
      (tool: { tool_name: string }) => tool.tool_name === 'echo',
    );
    const disabled = await api.patch(`/api/v1/agents/${agent.id}/tools/${echo.id}`, { is_enabled: false });
    expect(disabled.status, disabled.raw).toBe(200);
    await first.close();

    // Two processes reading the same file at once end with the one row.
    const [second, third] = await Promise.all([peerWith(file), peerWith(file)]);
    api = peerApi(second, organization.key);
    const servers = (await api.get(serversUrl(agent.id))).body;
    expect(servers).toEqual([expect.objectContaining({ id, status: 'connected' })]);
    const tools = (await api.get(`${serversUrl(agent.id)}/${id}/tools`)).body;
    expect(tools.find((tool: { id: string }) => tool.id === echo.id)).toMatchObject({ is_enabled: false });
    await third.close();
    await second.close();

    // A file without it: the row stays, unreachable, and its process is not started.
    const without = await peerWith(writeFile([]));
    api = peerApi(without, organization.key);
    expect((await api.get(`${serversUrl(agent.id)}/${id}`)).body).toMatchObject({
      status: 'unreachable',
      status_reason: UNDECLARED_REASON,
    });
    const refused = await api.post(`${serversUrl(agent.id)}/${id}/connect`, undefined);
    expect({ status: refused.status, code: refused.body.code, detail: refused.body.detail }).toEqual({
      status: 502,
      code: 'mcp_server_unavailable',
      detail: `The MCP server could not be connected: ${UNDECLARED_REASON}.`,
    });
    expect(childrenWith(marker)).toEqual([]);
    // Runs leave its tools out.
    const thread = await api.createThread(agent.id);
    const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'Go.',
    });
    expect(reply.status, reply.raw).toBe(200);
    expect(model.requests).toHaveLength(1);
    const offered = (model.requests[0]!.tools ?? []).map((tool) => tool.name);
    const serverTools = tools.map((tool: { tool_name: string }) => tool.tool_name);
    expect(serverTools).toContain('get-sum');
    expect(offered.filter((name) => serverTools.includes(name))).toEqual([]);
    await without.close();

    // Declared again: registered, with the same tools.
    const back = await peerWith(file);
    api = peerApi(back, organization.key);
    expect((await api.get(`${serversUrl(agent.id)}/${id}`)).body).toMatchObject({
      status: 'registered',
      status_reason: null,
    });
    expect((await api.get(`${serversUrl(agent.id)}/${id}/tools`)).body).toEqual(tools);
    await back.close();
  });

  it('start the child again on the next call after it died', async () => {
    const { organization, agent, marker, name, entry } = await setup();
    const peer = await peerWith(writeFile([entry], `servers-${randomUUID()}.json`));
    const api = peerApi(peer, organization.key);
    const id = stdioServerId({ organizationId: organization.organizationId, agentId: agent.id, name });
    const check = () => api.post(`${serversUrl(agent.id)}/${id}/health-check`, undefined);
    expect((await check()).body).toMatchObject({ status: 'healthy', error_message: null });
    const [pid] = childrenWith(marker);
    expect(pid).toEqual(expect.any(Number));
    process.kill(pid!, 'SIGKILL');
    await until(() => childrenWith(marker).length === 0);
    const again = await check();
    expect(again.body).toMatchObject({ status: 'healthy', error_message: null });
    const [restarted] = childrenWith(marker);
    expect(restarted).toEqual(expect.any(Number));
    expect(restarted).not.toBe(pid);
    await peer.close();
    expect(childrenWith(marker)).toEqual([]);
  });

  it('report a command that cannot be started as unreachable', async () => {
    const { organization, agent, name, entry } = await setup();
    const peer = await peerWith(writeFile([{ ...entry, command: path.join(folder, 'no-such-command') }]));
    const api = peerApi(peer, organization.key);
    const id = stdioServerId({ organizationId: organization.organizationId, agentId: agent.id, name });
    const connect = await api.post(`${serversUrl(agent.id)}/${id}/connect`, undefined);
    expect({ status: connect.status, detail: connect.body.detail }).toEqual({
      status: 502,
      detail: "The MCP server could not be connected: The server's command could not be started (ENOENT).",
    });
    expect((await api.get(`${serversUrl(agent.id)}/${id}`)).body.status).toBe('unreachable');
    await peer.close();
  });
});

describe('a servers file that stops the start', () => {
  it('names an unknown organisation, an agent of another organisation, or an unknown agent', async () => {
    const { organization, agent, entry } = await setup();
    const other = await context.newOrganization();
    const foreign = await client(context, other.key).createAgent();
    await expect(peerWith(writeFile([{ ...entry, organization: 'no-such-org' }]))).rejects.toThrow(
      `Invalid configuration: MCP_SERVERS_FILE servers[0] ("${entry.name}"): organization: no organisation "no-such-org"`,
    );
    await expect(peerWith(writeFile([{ ...entry, agents: [agent.id, foreign.id] }]))).rejects.toThrow(
      `servers[0] ("${entry.name}"): agents[1]: no agent ${foreign.id} in organisation`,
    );
    const unknown = randomUUID();
    await expect(peerWith(writeFile([{ ...entry, agents: [unknown] }]))).rejects.toThrow(
      `agents[0]: no agent ${unknown} in organisation`,
    );
    // Nothing was registered by the failed starts.
    const listed = await client(context, organization.key).get(serversUrl(agent.id));
    expect(listed.body).toEqual([]);
  });

  it('names the entry and field of a bad file, and a file that is not there', async () => {
    const { entry } = await setup();
    const { command: _command, ...withoutCommand } = entry;
    await expect(peerWith(writeFile([entry, withoutCommand]))).rejects.toThrow(
      `servers[1] ("${entry.name}"): command: is required`,
    );
    await expect(peerWith(writeFile([entry, entry]))).rejects.toThrow(
      `servers[1] ("${entry.name}"): name: another server is already named "${entry.name}"`,
    );
    await expect(peerWith(path.join(folder, 'missing.yaml'))).rejects.toThrow(
      `Invalid configuration: MCP_SERVERS_FILE (${path.join(folder, 'missing.yaml')}) cannot be read (ENOENT)`,
    );
  });
});
