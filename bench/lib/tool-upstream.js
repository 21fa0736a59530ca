import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * The loopback endpoint of the tool-call benchmark: `GET /current-time` answers a small JSON
 * body (about 90 bytes) at once, whoever asks — Parley's external tool or the benchmark itself.
 * `GET /healthz` answers how many `/current-time` requests it served. Run it as its own process
 * (`node tool-upstream.js`): it prints `listening on <port>` and stops on SIGTERM, so it never
 * shares an event loop with Parley or with the client that measures.
 */
export function createToolUpstream() {
  let served = 0;
  return http.createServer({ noDelay: true }, (request, response) => {
    if (request.method === 'GET' && request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ served }));
      return;
    }
    if (request.method !== 'GET' || request.url !== '/current-time') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    served += 1;
    const iso = new Date().toISOString();
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ iso, timezone: 'UTC', formatted: `${iso.slice(0, 19).replace('T', ' ')} UTC` }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const server = createToolUpstream();
  // Longer than any pause of the benchmark: both clients keep their one connection warm.
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
