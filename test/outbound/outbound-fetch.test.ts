import net from 'node:net';
import type http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseOutboundAllow } from '../../src/outbound/allow-list.js';
import { createOutboundClient, type OutboundClient } from '../../src/outbound/outbound-client.js';
import { OutboundError } from '../../src/outbound/outbound-error.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import { SSRF_DNS_RECORDS, createStubResolver, ssrfVectors, startCountingListener } from '../helpers/ssrf-vectors.js';

/**
 * The guarded client's streaming fetch (src/outbound/outbound-fetch.ts), the only fetch MCP and
 * its OAuth use: the same T18/T19 rules as `request`, and a body that streams with a byte cap,
 * an idle timeout and the caller's abort.
 */

async function refusal(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => new Error('the request was not refused'),
    (caught: unknown) => caught,
  );
  if (!(error instanceof OutboundError)) throw error;
  return error;
}

describe('T18: every SSRF vector through fetch', () => {
  let listener: Awaited<ReturnType<typeof startCountingListener>>;
  beforeAll(async () => {
    listener = await startCountingListener();
  });
  afterAll(() => listener.close());
  afterEach(() => vi.restoreAllMocks());

  it.each(ssrfVectors(0).map((vector, index) => [vector.label, index] as const))(
    'refuses %s before any socket opens',
    async (_label, index) => {
      const vector = ssrfVectors(listener.port)[index]!;
      const connects = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
        throw new Error(`a socket was opened for ${vector.url}`);
      });
      const client = createOutboundClient({ lookup: createStubResolver(SSRF_DNS_RECORDS).lookup });
      const error = await refusal(client.fetch(vector.url, { method: 'POST', body: '{}' }));
      expect({ reason: error.reason, message: error.message }).toEqual({
        reason: vector.reason,
        message: `outbound_blocked: ${vector.reason}`,
      });
      expect(connects).not.toHaveBeenCalled();
      expect(listener.connections()).toBe(0);
      await client.close();
    },
  );

  it('connects to the address it validated: a rebinding name is refused on the next connection', async () => {
    const upstream = await startHttpFixture((_request, response) => response.end('validated'), '127.0.0.1');
    const trap = await startCountingListener('127.0.0.2', upstream.port);
    const allow = parseOutboundAllow('127.0.0.1/32');
    const resolver = createStubResolver({ 'rebind.example.test': [['127.0.0.1'], ['127.0.0.2']] });
    const url = `http://rebind.example.test:${upstream.port}/`;
    const first = createOutboundClient({ allow, lookup: resolver.lookup });
    expect(await (await first.fetch(url)).text()).toBe('validated');
    const second = createOutboundClient({ allow, lookup: resolver.lookup });
    expect((await refusal(second.fetch(url))).reason).toBe('address');
    expect(trap.connections()).toBe(0);
    await Promise.all([first.close(), second.close(), upstream.close(), trap.close()]);
  });
});

describe('fetch redirects', () => {
  let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
  let other: Awaited<ReturnType<typeof startHttpFixture>>;
  let client: OutboundClient;

  beforeAll(async () => {
    other = await startHttpFixture((request, response) => response.end(JSON.stringify(request)));
    upstream = await startHttpFixture((request, response) => {
      const [, kind, status, location] = request.url.split('/');
      if (kind === 'to') response.writeHead(Number(status), { location: decodeURIComponent(location!) });
      response.end(kind === 'to' ? 'moved' : JSON.stringify(request));
    });
    const allow = parseOutboundAllow(`127.0.0.1:${upstream.port},127.0.0.1:${other.port}`);
    const resolver = createStubResolver({ 'other.example.test': ['127.0.0.1'], 'blocked.example.test': ['10.0.0.1'] });
    client = createOutboundClient({ allow, lookup: resolver.lookup });
  });
  afterAll(() => Promise.all([client.close(), upstream.close(), other.close()]));

  const redirect = (status: number, location: string) =>
    `${upstream.origin}/to/${status}/${encodeURIComponent(location)}`;

  it('follows a 307 to another origin with method and body, without Authorization', async () => {
    const target = `http://other.example.test:${other.port}/landing`;
    const response = await client.fetch(redirect(307, target), {
      method: 'POST',
      headers: new Headers({ authorization: 'Bearer secret', 'content-type': 'application/json', 'x-kept': '1' }),
      body: '{"n":1}',
    });
    const seen = JSON.parse(await response.text());
    expect({ status: response.status, url: response.url, redirected: response.redirected }).toEqual({
      status: 200,
      url: target,
      redirected: true,
    });
    expect({ method: seen.method, body: seen.body, kept: seen.headers['x-kept'] }).toEqual({
      method: 'POST',
      body: '{"n":1}',
      kept: '1',
    });
    expect(seen.headers).not.toHaveProperty('authorization');
  });

  it('re-checks every hop: a redirect to a private address is refused', async () => {
    expect((await refusal(client.fetch(redirect(302, 'http://blocked.example.test/')))).reason).toBe('address');
    expect((await refusal(client.fetch(redirect(302, 'http://127.0.0.1/')))).reason).toBe('address');
  });

  it("returns the redirect itself with redirect: 'manual' (the SDK follows same-origin ones itself)", async () => {
    const response = await client.fetch(redirect(308, '/elsewhere'), { redirect: 'manual' });
    expect({ status: response.status, location: response.headers.get('location') }).toEqual({
      status: 308,
      location: '/elsewhere',
    });
  });

  it('sends form parameters as a form', async () => {
    const response = await client.fetch(`${upstream.origin}/echo`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token' }),
    });
    const seen = JSON.parse(await response.text());
    expect({ body: seen.body, type: seen.headers['content-type'] }).toEqual({
      body: 'grant_type=refresh_token',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
    });
  });
});

describe('fetch streaming bodies', () => {
  let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
  const open = new Set<http.ServerResponse>();
  let release: () => void = () => {};

  beforeAll(async () => {
    upstream = await startHttpFixture((request, response) => {
      open.add(response);
      if (request.url === '/events') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('id: 1\ndata: first\n\n');
        release = () => response.end('id: 2\ndata: second\n\n');
      } else if (request.url === '/endless') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = `data: ${'x'.repeat(1000)}\n\n`;
        const write = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', write);
        };
        write();
      } else if (request.url === '/quiet') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: hello\n\n');
      } else if (request.url === '/big') {
        response.writeHead(200, { 'content-length': String(1024 * 1024) });
        response.end(Buffer.alloc(1024 * 1024));
      }
      // /silent: never answers.
    });
  });
  afterAll(() => {
    open.forEach((response) => response.destroy());
    return upstream.close();
  });

  const clientWith = (limits: Parameters<OutboundClient['fetchWith']>[0]) => {
    const client = createOutboundClient({ allow: parseOutboundAllow(`127.0.0.1:${upstream.port}`) });
    return { client, fetch: client.fetchWith(limits) };
  };

  it('hands over each event as it arrives (the body streams)', async () => {
    const { client, fetch } = clientWith({});
    const response = await fetch(`${upstream.origin}/events`, { headers: { accept: 'text/event-stream' } });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('id: 1\ndata: first\n\n');
    release();
    const second = await reader.read();
    expect(Buffer.from(second.value!).toString()).toBe('id: 2\ndata: second\n\n');
    expect((await reader.read()).done).toBe(true);
    await client.close();
  });

  it('errors the body once it passes the byte cap, counted while streaming', async () => {
    const { client, fetch } = clientWith({ maxResponseBytes: 64 * 1024 });
    const response = await fetch(`${upstream.origin}/endless`);
    const error = await refusal(response.text());
    expect(error.message).toBe('outbound_failed: response_too_large');
    await client.close();
  });

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const { client, fetch } = clientWith({ maxResponseBytes: 1024 });
    expect((await refusal(fetch(`${upstream.origin}/big`))).reason).toBe('response_too_large');
    await client.close();
  });

  it('times out a body that goes quiet between chunks', async () => {
    const { client, fetch } = clientWith({ idleTimeoutMs: 100 });
    const response = await fetch(`${upstream.origin}/quiet`);
    const reader = response.body!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('data: hello\n\n');
    expect((await refusal(reader.read())).message).toBe('outbound_failed: timeout');
    await client.close();
  });

  it('times out a server that sends no response head', async () => {
    const { client, fetch } = clientWith({ headersTimeoutMs: 100 });
    expect((await refusal(fetch(`${upstream.origin}/silent`))).message).toBe('outbound_failed: timeout');
    await client.close();
  });

  it("stops on the caller's abort, before and during the body", async () => {
    const { client, fetch } = clientWith({});
    const before = new AbortController();
    const pending = fetch(`${upstream.origin}/silent`, { signal: before.signal });
    before.abort();
    expect((await refusal(pending)).reason).toBe('aborted');
    const during = new AbortController();
    const response = await fetch(`${upstream.origin}/quiet`, { signal: during.signal });
    const reader = response.body!.getReader();
    await reader.read();
    const next = reader.read();
    during.abort();
    expect((await refusal(next)).reason).toBe('aborted');
    await client.close();
  });
});
