import { StringDecoder } from 'node:string_decoder';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { FastifyBaseLogger } from 'fastify';
import { STDIO_URL_PREFIX, UNDECLARED_REASON } from '../domain/mcp-servers.js';
import type { McpServerRef } from './mcp-authorization.js';
import { McpTransportUnavailable, type ExtraTransports } from './mcp-connection-pool.js';
import type { StdioServerDeclaration } from './mcp-servers-file.js';

/** stderr lines logged per process; longer lines are cut. What is beyond is dropped (one warning). */
const STDERR_LINES_PER_PROCESS = 200;
const STDERR_LINE_CHARACTERS = 1000;

/**
 * THE ONLY PLACE PARLEY STARTS PROCESSES (docs/adr/0019-mcp-stdio.md; test/unit/static-security
 * allows this file alone). Every command comes from the operator's MCP_SERVERS_FILE, read at
 * start: a `stdio:<name>` URL only selects one of those declarations by name, and nothing a
 * user, a model or a tool sends can add a command, an argument or a variable (the API refuses
 * `stdio:` URLs, and stdio rows are read-only to it).
 *
 * The SDK spawns without a shell (`shell: false`, cross-spawn), so arguments are never parsed
 * by one. The child's environment is the entry's `env` on top of the SDK's short list of safe
 * variables (HOME, LOGNAME, PATH, SHELL, TERM, USER) — never Parley's own environment, so
 * PARLEY_SECRET_KEY, DATABASE_URL and provider keys cannot reach it. Its stderr goes to the log
 * at debug, bounded, with the entry's `env` values masked.
 */
export function stdioTransports(input: {
  servers: readonly StdioServerDeclaration[];
  log: FastifyBaseLogger;
}): ExtraTransports {
  const byName = new Map(input.servers.map((server) => [server.name, server]));
  return (ref: McpServerRef) => {
    if (!ref.url.startsWith(STDIO_URL_PREFIX)) return null;
    const server = byName.get(ref.url.slice(STDIO_URL_PREFIX.length));
    if (!server) throw new McpTransportUnavailable(UNDECLARED_REASON);
    const transport = new StdioClientTransport({
      command: server.command,
      args: server.args,
      env: { ...server.env },
      ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
      stderr: 'pipe',
    });
    logStderr(transport, server, ref, input.log);
    return { transport, ...(server.timeoutMs === undefined ? {} : { connectTimeoutMs: server.timeoutMs }) };
  };
}

function logStderr(
  transport: StdioClientTransport,
  server: StdioServerDeclaration,
  ref: McpServerRef,
  log: FastifyBaseLogger,
): void {
  const stream = transport.stderr;
  if (!stream) return;
  const secrets = Object.values(server.env).filter((value) => value.length >= 8);
  const context = { mcpServerId: ref.serverId, mcpServer: server.name };
  let lines = 0;
  let partial = '';
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => {
    if (lines > STDERR_LINES_PER_PROCESS) return;
    const parts = (partial + decoder.write(chunk)).split('\n');
    partial = (parts.pop() ?? '').slice(0, STDERR_LINE_CHARACTERS);
    for (const part of parts) {
      lines += 1;
      if (lines > STDERR_LINES_PER_PROCESS) {
        log.warn(
          context,
          `MCP stdio server wrote more than ${STDERR_LINES_PER_PROCESS} stderr lines; the rest is not logged`,
        );
        return;
      }
      let line = part.slice(0, STDERR_LINE_CHARACTERS);
      for (const secret of secrets) line = line.replaceAll(secret, '[redacted]');
      if (line.trim() !== '') log.debug({ ...context, stderr: line }, 'MCP stdio server stderr');
    }
  });
}
