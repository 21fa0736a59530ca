import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * The loopback MCP server of the MCP benchmark: the SDK's `McpServer` over
 * `StreamableHTTPServerTransport` (stateful sessions, answers as server-sent events — the SDK's
 * defaults) at `POST|GET|DELETE /mcp`, with one trivial tool, `echo`, that answers
 * `{"content": [{"type": "text", "text": "echo: <message>"}]}` at once. Whoever calls it — the
 * SDK client of the benchmark, the pool in the benchmark's process, Parley's server — talks to
 * the same code. `GET /healthz` answers how many sessions were initialised and how many `echo`
 * calls were served, so the benchmark can check that every call it timed reached the server.
 *
 * At most MAX_SESSIONS sessions are kept: past that, the one least recently used is closed. A
 * client that opens a session per call and never ends it (the connection-reuse baseline) would
 * otherwise grow the server without bound; a session in use (a pooled connection) stays.
 * `GET /healthz` also counts the JSON-RPC requests by method, so the benchmark can check that a
 * run sent its one `tools/call` and nothing else.
 *
 * Run it as its own process (`node mcp-echo-server.js`): it prints `listening on <port>` and
 * stops on SIGTERM, so it never shares an event loop with Parley or with the measuring client.
 */

const MAX_SESSIONS = 4096;

export function createMcpEchoServer() {
  /** Session id → transport, least recently used first (a Map keeps insertion order). */
  const sessions = new Map();
  const counts = { initializations: 0, calls: 0, methods: {} };

  const newServer = () => {
    const server = new McpServer({ name: 'parley-bench-echo', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes its message back.', inputSchema: { message: z.string().optional() } },
      ({ message }) => {
        counts.calls += 1;
        return { content: [{ type: 'text', text: `echo: ${message ?? ''}` }] };
      },
    );
    return server;
  };

  const handle = async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://bench');
    if (request.method === 'GET' && url.pathname === '/healthz') {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...counts, sessions: sessions.size }));
      return;
    }
    if (url.pathname !== '/mcp') {
      response.writeHead(404).end();
      return;
    }
    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const known = sessions.get(sessionId);
      if (!known) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"unknown session"}');
        return;
      }
      sessions.delete(sessionId);
      if (request.method !== 'DELETE') sessions.set(sessionId, known);
      await known.handleRequest(request, response, await countedBody(request));
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        counts.initializations += 1;
        sessions.set(id, transport);
        if (sessions.size > MAX_SESSIONS) {
          const [oldestId, oldest] = sessions.entries().next().value;
          sessions.delete(oldestId);
          void oldest.close().catch(() => undefined);
        }
      },
    });
    await newServer().connect(transport);
    await transport.handleRequest(request, response, await countedBody(request));
  };

  /** A POST's JSON-RPC body, parsed here (and handed to the transport) to count its methods. */
  const countedBody = async (request) => {
    if (request.method !== 'POST') return undefined;
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const message of Array.isArray(body) ? body : [body]) {
      const method = message.method ?? '(response)';
      counts.methods[method] = (counts.methods[method] ?? 0) + 1;
    }
    return body;
  };

  return http.createServer({ noDelay: true }, (request, response) => {
    handle(request, response).catch((error) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
      else response.destroy();
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const server = createMcpEchoServer();
  // Longer than any pause of the benchmark: pooled clients keep their connections warm.
  server.keepAliveTimeout = 60_000;
  server.listen(Number(values.port), '127.0.0.1', () => {
    process.stdout.write(`listening on ${server.address().port}\n`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
