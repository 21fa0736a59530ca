import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { UUID_PATTERN as UUID } from '../helpers/ids.js';

/**
 * Requests Node's HTTP parser refuses (issue 7, L2) are answered in the error envelope with
 * `x-request-id`, like every other error — before, Fastify's default wrote its own body
 * (`{"error":"Bad Request","message":"Client Error","statusCode":400}`) and no request id.
 */

let context: TestContext;
let port: number;
beforeAll(async () => {
  context = await createTestContext();
  port = Number(new URL(await context.listen()).port);
});
afterAll(() => context.close());

/** Writes `request` on a fresh socket and reads everything until the server closes it. */
function exchange(request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.end(request);
  });
}

function parse(response: string) {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { statusLine, headers, body: JSON.parse(body) as unknown };
}

function expectEnvelope(response: string, statusLine: string, code: string, detail: string): void {
  const { statusLine: line, headers, body } = parse(response);
  expect(line).toBe(statusLine);
  expect(headers['x-request-id']).toMatch(UUID);
  expect(headers).toMatchObject({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'close',
  });
  expect(body).toEqual({ detail, code, request_id: headers['x-request-id'] });
}

it('headers over 16 KiB → 431 headers_too_large in the envelope', async () => {
  const response = await exchange(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
  expectEnvelope(
    response,
    'HTTP/1.1 431 Request Header Fields Too Large',
    'headers_too_large',
    'The request headers are too large.',
  );
});

it('NUL in a header, a bare CR, or a malformed request line → 400 bad_request in the envelope', async () => {
  for (const request of [
    Buffer.from('GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: a\u0000b\r\n\r\n', 'latin1'),
    'GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: a\rb\r\n\r\n',
    'NOT A REQUEST\r\n\r\n',
    'GET /healthz HTTP/9.9.9\r\n\r\n',
  ]) {
    expectEnvelope(
      await exchange(request),
      'HTTP/1.1 400 Bad Request',
      'bad_request',
      'The request could not be understood.',
    );
  }
});

it('a well-formed request on the same server still gets its answer', async () => {
  const { statusLine, body } = parse(await exchange('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
  expect(statusLine).toBe('HTTP/1.1 200 OK');
  expect(body).toEqual({ status: 'ok' });
});
