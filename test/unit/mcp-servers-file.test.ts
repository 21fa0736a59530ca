import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { nameBasedId } from '../../src/ids.js';
import { parseMcpServersFile } from '../../src/mcp/mcp-servers-file.js';

/** MCP_SERVERS_FILE: how it is read and checked before anything starts (docs/mcp.md "Stdio servers"). */

const AGENT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const FILE = '/etc/parley/mcp-servers.yaml';

function problem(text: string, file = FILE): string {
  try {
    parseMcpServersFile(text, file);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('MCP_SERVERS_FILE', () => {
  it('is unset by default and read relative to the working directory', () => {
    expect(loadConfig({}).mcp.serversFile).toBeNull();
    expect(loadConfig({ MCP_SERVERS_FILE: 'config/mcp.yaml' }).mcp.serversFile).toBe(path.resolve('config/mcp.yaml'));
    expect(loadConfig({ MCP_SERVERS_FILE: '/srv/mcp.json' }).mcp.serversFile).toBe('/srv/mcp.json');
  });

  it('declares servers in YAML or JSON, with defaults for what an entry leaves out', () => {
    const yaml = `
servers:
  - name: files
    agents: ['${AGENT.toUpperCase()}']
    command: npx
    args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv/docs']
    env: { LOG_LEVEL: debug }
    cwd: ../work
    timeout_ms: 120000
  - name: git.local
    organization: acme
    agents: ['${AGENT}']
    command: /usr/local/bin/mcp-git
`;
    expect(parseMcpServersFile(yaml, FILE)).toEqual([
      {
        name: 'files',
        organization: 'default',
        agents: [AGENT],
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv/docs'],
        env: { LOG_LEVEL: 'debug' },
        cwd: '/etc/work',
        timeoutMs: 120000,
        where: 'servers[0] ("files")',
      },
      {
        name: 'git.local',
        organization: 'acme',
        agents: [AGENT],
        command: '/usr/local/bin/mcp-git',
        args: [],
        env: {},
        cwd: undefined,
        timeoutMs: undefined,
        where: 'servers[1] ("git.local")',
      },
    ]);
    const json = JSON.stringify({ servers: [{ name: 'a', agents: [AGENT], command: 'node' }] });
    expect(parseMcpServersFile(json, '/srv/mcp.json')).toHaveLength(1);
    expect(parseMcpServersFile('servers: []', FILE)).toEqual([]);
  });

  it('names the entry and the field of the first problem', () => {
    const entry = (fields: string) => `servers:\n  - { name: files, agents: ['${AGENT}'], command: npx${fields} }`;
    const prefix = `Invalid configuration: MCP_SERVERS_FILE (${FILE})`;
    expect(problem(`servers:\n  - { name: files, agents: ['${AGENT}'] }`)).toBe(
      `${prefix} servers[0] ("files"): command: is required`,
    );
    expect(problem(`servers:\n  - { name: files, command: npx }`)).toBe(
      `${prefix} servers[0] ("files"): agents: is required`,
    );
    expect(problem(entry(', shell: true'))).toBe(`${prefix} servers[0] ("files"): shell: is not a known field`);
    expect(problem(entry(', args: [1]'))).toBe(`${prefix} servers[0] ("files"): args[0]: must be string`);
    expect(problem(entry(', env: { "BAD NAME": x }'))).toBe(
      `${prefix} servers[0] ("files"): env: is not a valid environment variable name`,
    );
    expect(problem(entry(', timeout_ms: 10'))).toBe(`${prefix} servers[0] ("files"): timeout_ms: must be >= 1000`);
    expect(problem(`servers:\n  - { name: files, agents: [not-an-id], command: npx }`)).toBe(
      `${prefix} servers[0] ("files"): agents[0]: must be an agent id (UUID)`,
    );
    expect(problem(`servers:\n  - { name: 'two words', agents: ['${AGENT}'], command: npx }`)).toBe(
      `${prefix} servers[0]: name: must be letters, digits, "_", "." or "-" (at most 64)`,
    );
    expect(problem(`${entry('')}\n  - { name: files, agents: ['${AGENT}'], command: other }`)).toBe(
      `${prefix} servers[1] ("files"): name: another server is already named "files"`,
    );
    expect(problem('servers: {}')).toBe(`${prefix} servers: must be array`);
    expect(problem('other: []')).toBe(`${prefix} servers: is required`);
    expect(problem('servers: [')).toBe(`${prefix} is not valid YAML`);
    expect(problem('{"servers": [', '/srv/mcp.json')).toBe(
      'Invalid configuration: MCP_SERVERS_FILE (/srv/mcp.json) is not valid JSON',
    );
  });

  it('never repeats a value of the file in its errors', () => {
    const message = problem(
      `servers:\n  - { name: files, agents: ['${AGENT}'], command: npx, env: { TOKEN: 12345678901 } }`,
    );
    expect(message).toBe(
      `Invalid configuration: MCP_SERVERS_FILE (${FILE}) servers[0] ("files"): env.TOKEN: must be string`,
    );
    expect(message).not.toContain('12345678901');
  });
});

describe('name-based ids', () => {
  it('are RFC 9562 version 5 UUIDs', () => {
    // The RFC's example: the DNS namespace and "www.example.com".
    expect(nameBasedId('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});
