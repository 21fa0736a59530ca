import net from 'node:net';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOutboundAllow } from '../../src/outbound/allow-list.js';
import { createOutboundClient, type OutboundClient } from '../../src/outbound/outbound-client.js';
import { OutboundError } from '../../src/outbound/outbound-error.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import { createStubResolver } from '../helpers/ssrf-vectors.js';

/**
 * reliability.md T21 for the outbound client: a 50 MiB stream stops at the cap, a drip and slow
 * headers hit the total deadline, oversized headers and non-HTTP answers fail cleanly, and the
 * caller's signal aborts. Every failure is an OutboundError with a constant message.
 */

const MIB = 1024 * 1024;

async function failure(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => new Error('the request did not fail'),
    (caught: unknown) => caught,
  );
  if (!(error instanceof OutboundError)) throw error;
  return error;
}

/** Writes `total` bytes in 64 KiB chunks, respecting backpressure; resolves with what it wrote when the response closes. */
function stream(response: ServerResponse, total: number, written: { bytes: number; finished: boolean }) {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const writeMore = () => {
    while (written.bytes < total && !response.destroyed) {
      written.bytes += chunk.length;
      if (!response.write(chunk)) return void response.once('drain', writeMore);
    }
    if (written.bytes >= total) response.end(() => (written.finished = true));
  };
  writeMore();
}

describe('T21: response limits', () => {
  let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
  let client: OutboundClient;
  const streamed = { bytes: 0, finished: false };
  const drips: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    upstream = await startHttpFixture((request, response) => {
      if (request.url === '/50mib') return stream(response, 50 * MIB, streamed);
      if (request.url === '/declared') {
        response.writeHead(200, { 'content-length': String(50 * MIB) });
        return response.write('x');
      }
      if (request.url === '/drip') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        const drip = setInterval(() => response.write('.'), 100);
        drips.push(drip);
        return response.on('close', () => clearInterval(drip));
      }
      if (request.url === '/slow-headers') return; // never answers
      if (request.url === '/big-headers') {
        response.setHeader('x-padding', 'p'.repeat(32 * 1024));
        return response.end('{}');
      }
      if (request.url === '/not-json') {
        response.writeHead(200, { 'content-type': 'text/html' });
        return response.end('{"truncated": ');
      }
      response.end('ok');
    });
    client = createOutboundClient({ allow: parseOutboundAllow(`127.0.0.1:${upstream.port}`) });
  });
  afterAll(async () => {
    drips.forEach(clearInterval);
    await Promise.all([client.close(), upstream.close()]);
  });

  it('stops reading a 50 MiB stream at the cap and closes the connection', async () => {
    const error = await failure(
      client.request({ method: 'GET', url: `${upstream.origin}/50mib`, maxResponseBytes: MIB }),
    );
    expect(error.message).toBe('outbound_failed: response_too_large');
    expect(error.blocked).toBe(false);
    // The upstream's writes stopped well short of 50 MiB: the client destroyed the socket.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(streamed.finished).toBe(false);
    expect(streamed.bytes).toBeLessThan(50 * MIB);
  });

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    const error = await failure(
      client.request({ method: 'GET', url: `${upstream.origin}/declared`, maxResponseBytes: MIB }),
    );
    expect(error.reason).toBe('response_too_large');
  });

  it('ends a body that drips (a byte every 100 ms) at the total deadline', async () => {
    const error = await failure(client.request({ method: 'GET', url: `${upstream.origin}/drip`, timeoutMs: 500 }));
    expect(error.message).toBe('outbound_failed: timeout');
  });

  it('ends a request whose headers never come at the total deadline', async () => {
    const error = await failure(
      client.request({ method: 'GET', url: `${upstream.origin}/slow-headers`, timeoutMs: 300 }),
    );
    expect(error.reason).toBe('timeout');
  });

  it('refuses response headers over the header cap', async () => {
    const error = await failure(client.request({ method: 'GET', url: `${upstream.origin}/big-headers` }));
    expect(error.message).toBe('outbound_failed: headers_too_large');
  });

  it('hands back invalid JSON with a wrong content type as it came: judging it is the caller’s job', async () => {
    const answer = await client.request({ method: 'GET', url: `${upstream.origin}/not-json` });
    expect({ status: answer.status, type: answer.headers['content-type'], body: answer.body.toString() }).toEqual({
      status: 200,
      type: 'text/html',
      body: '{"truncated": ',
    });
  });

  it('aborts when the caller’s signal fires, and refuses to start on an aborted one', async () => {
    const controller = new AbortController();
    const pending = client.request({
      method: 'GET',
      url: `${upstream.origin}/slow-headers`,
      signal: controller.signal,
    });
    setImmediate(() => controller.abort());
    expect((await failure(pending)).message).toBe('outbound_failed: aborted');
    expect(
      (await failure(client.request({ method: 'GET', url: `${upstream.origin}/`, signal: controller.signal }))).reason,
    ).toBe('aborted');
  });
});

describe('failures of allowed destinations', () => {
  it('reports an answer that is not HTTP as invalid_response, without its text', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.end('SSH-2.0-OpenSSH_9.6 banner\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    const client = createOutboundClient({ allow: parseOutboundAllow(`127.0.0.1:${port}`) });
    const error = await failure(client.request({ method: 'GET', url: `http://127.0.0.1:${port}/` }));
    expect(error.message).toBe('outbound_failed: invalid_response');
    expect(error.message).not.toContain('SSH');
    await client.close();
    sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reports a refused connection as connect and an unknown name as dns', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const resolver = createStubResolver({});
    const client = createOutboundClient({ allow: parseOutboundAllow(`127.0.0.1:${port}`), lookup: resolver.lookup });
    const refused = await failure(client.request({ method: 'GET', url: `http://127.0.0.1:${port}/` }));
    expect({ message: refused.message, blocked: refused.blocked }).toEqual({
      message: 'outbound_failed: connect',
      blocked: false,
    });
    const unknown = await failure(client.request({ method: 'GET', url: 'https://no-such-name.example.com/' }));
    expect(unknown.message).toBe('outbound_failed: dns');
    expect(resolver.queries).toEqual(['no-such-name.example.com']);
    await client.close();
  });

  it('refuses a header value that would split the request', async () => {
    const client = createOutboundClient({ allow: parseOutboundAllow('127.0.0.1:1') });
    const error = await failure(
      client.request({ method: 'GET', url: 'http://127.0.0.1:1/', headers: { 'x-injected': 'a\r\nHost: evil' } }),
    );
    expect(error.reason).toBe('invalid_request');
    const host = await failure(
      client.request({ method: 'GET', url: 'http://127.0.0.1:1/', headers: { Host: 'internal' } }),
    );
    expect(host.reason).toBe('invalid_request');
    await client.close();
  });
});
