import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseOutboundAllow } from '../../src/outbound/allow-list.js';
import { createOutboundClient, type OutboundClient } from '../../src/outbound/outbound-client.js';
import { OutboundError } from '../../src/outbound/outbound-error.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import { SSRF_DNS_RECORDS, createStubResolver, ssrfVectors, startCountingListener } from '../helpers/ssrf-vectors.js';

/**
 * The guarded outbound client against reliability.md T18 (every vector refused, no socket
 * opened) and T19 (DNS rebinding, redirects), and its ordinary use against loopback fixtures
 * that OUTBOUND_ALLOW lets it reach.
 */

async function refusal(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => new Error('the request was not refused'),
    (caught: unknown) => caught,
  );
  if (!(error instanceof OutboundError)) throw error;
  return error;
}

describe('T18: every SSRF vector', () => {
  let listener: Awaited<ReturnType<typeof startCountingListener>>;
  beforeAll(async () => {
    listener = await startCountingListener();
  });
  afterAll(() => listener.close());
  afterEach(() => vi.restoreAllMocks());

  it.each(ssrfVectors(0).map((vector, index) => [vector.label, index] as const))(
    'refuses %s with the right reason before any socket opens',
    async (_label, index) => {
      const vector = ssrfVectors(listener.port)[index]!;
      // Any socket connect in this process fails the test, and none reaches anything.
      const connects = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
        throw new Error(`a socket was opened for ${vector.url}`);
      });
      const resolver = createStubResolver(SSRF_DNS_RECORDS);
      const client = createOutboundClient({ lookup: resolver.lookup });
      const error = await refusal(client.request({ method: 'GET', url: vector.url }));
      expect({ reason: error.reason, message: error.message, blocked: error.blocked }).toEqual({
        reason: vector.reason,
        message: `outbound_blocked: ${vector.reason}`,
        blocked: true,
      });
      expect(connects).not.toHaveBeenCalled();
      expect(listener.connections()).toBe(0);
      await client.close();
    },
  );

  it('refuses a private answer found by DNS inside the connect, on a port an address entry allows', async () => {
    // With a CIDR entry taking any port, the name cannot be refused before it is resolved.
    const resolver = createStubResolver(SSRF_DNS_RECORDS);
    const client = createOutboundClient({ lookup: resolver.lookup, allow: parseOutboundAllow('192.0.2.0/24') });
    const error = await refusal(
      client.request({ method: 'GET', url: `http://private-record.ssrf.test:${listener.port}/` }),
    );
    expect(error.reason).toBe('address');
    expect(resolver.queries).toEqual(['private-record.ssrf.test']);
    expect(listener.connections()).toBe(0);
    await client.close();
  });

  it('says the same for checkUrl, the check without DNS that configuration validation uses', () => {
    const client = createOutboundClient();
    expect(() => client.checkUrl('http://[::ffff:a9fe:a9fe]/')).toThrow('outbound_blocked: address');
    expect(() => client.checkUrl('gopher://example.com/')).toThrow('outbound_blocked: scheme');
    expect(() => client.checkUrl('not a url')).toThrow('outbound_blocked: url');
    expect(client.checkUrl('https://api.example.com/v1?q=1')).toBeUndefined();
  });
});

describe('T19: DNS rebinding', () => {
  it('connects to the address it validated, resolving once per connection', async () => {
    const upstream = await startHttpFixture((_request, response) => response.end('validated'), '127.0.0.1');
    // The private address the second answer points at, on the same port.
    const trap = await startCountingListener('127.0.0.2', upstream.port);
    // 127.0.0.1 stands for the public address (allowed); 127.0.0.2 stays blocked.
    const allow = parseOutboundAllow('127.0.0.1/32');
    const resolver = createStubResolver({ 'rebind.example.test': [['127.0.0.1'], ['127.0.0.2']] });
    const url = `http://rebind.example.test:${upstream.port}/`;

    const first = createOutboundClient({ allow, lookup: resolver.lookup });
    const answer = await first.request({ method: 'GET', url });
    expect(answer.body.toString()).toBe('validated');
    expect(resolver.queries).toEqual(['rebind.example.test']);

    const second = createOutboundClient({ allow, lookup: resolver.lookup });
    const error = await refusal(second.request({ method: 'GET', url }));
    expect(error.reason).toBe('address');
    expect(resolver.queries).toEqual(['rebind.example.test', 'rebind.example.test']);
    expect(trap.connections()).toBe(0);
    expect(upstream.connections()).toBe(1);
    await Promise.all([first.close(), second.close(), upstream.close(), trap.close()]);
  });
});

describe('T19: redirects', () => {
  let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
  let other: Awaited<ReturnType<typeof startHttpFixture>>;
  let client: OutboundClient;
  const resolver = createStubResolver({
    'other.example.test': ['127.0.0.1'],
    'blocked.example.test': ['10.0.0.1'],
  });

  beforeAll(async () => {
    other = await startHttpFixture((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(request));
    });
    upstream = await startHttpFixture((request, response) => {
      const [, kind, argument] = request.url.split('/');
      if (kind === 'to')
        response.writeHead(Number(argument), { location: decodeURIComponent(request.url.split('/')[3]!) });
      else if (kind === 'loop') response.writeHead(302, { location: `/loop/${Number(argument) + 1}` });
      else response.setHeader('content-type', 'application/json');
      response.end(kind === 'to' || kind === 'loop' ? 'moved' : JSON.stringify(request));
    });
    // Both fixtures stand for public hosts: their address and port are allowed, nothing else of 127.0.0.1.
    const allow = parseOutboundAllow(`127.0.0.1:${upstream.port},127.0.0.1:${other.port}`);
    client = createOutboundClient({ allow, lookup: resolver.lookup });
  });
  afterAll(() => Promise.all([client.close(), upstream.close(), other.close()]));

  const redirect = (status: number, location: string) =>
    `${upstream.origin}/to/${status}/${encodeURIComponent(location)}`;

  it('refuses a 302 to http://127.0.0.1/ (port 80 is not allowed for it)', async () => {
    const error = await refusal(client.request({ method: 'GET', url: redirect(302, 'http://127.0.0.1/') }));
    expect(error.message).toBe('outbound_blocked: address');
  });

  it('re-checks a redirect to a name that resolves to a private address', async () => {
    const error = await refusal(client.request({ method: 'GET', url: redirect(307, 'http://blocked.example.test/') }));
    expect(error.reason).toBe('address');
  });

  it('follows a 307 to another host with method and body, dropping the credentials', async () => {
    const target = `http://other.example.test:${other.port}/landing?x=1`;
    const answer = await client.request({
      method: 'POST',
      url: redirect(307, target),
      headers: {
        Authorization: 'Bearer secret',
        'X-Api-Key': 'key-1',
        Cookie: 'a=b',
        'X-Trace': 'kept',
        'Content-Type': 'application/json',
      },
      body: '{"n":1}',
      credentialHeaders: ['x-api-key'],
    });
    const seen = JSON.parse(answer.body.toString());
    expect({ status: answer.status, url: answer.url, redirects: answer.redirects }).toEqual({
      status: 200,
      url: target,
      redirects: 1,
    });
    expect({ method: seen.method, url: seen.url, body: seen.body }).toEqual({
      method: 'POST',
      url: '/landing?x=1',
      body: '{"n":1}',
    });
    expect(seen.headers).not.toHaveProperty('authorization');
    expect(seen.headers).not.toHaveProperty('x-api-key');
    expect(seen.headers).not.toHaveProperty('cookie');
    expect(seen.headers['x-trace']).toBe('kept');
    expect(seen.headers['content-type']).toBe('application/json');
  });

  it('keeps the credentials on a same-origin redirect', async () => {
    const answer = await client.request({
      method: 'GET',
      url: redirect(302, '/echo'),
      headers: { authorization: 'Bearer secret' },
    });
    expect(JSON.parse(answer.body.toString()).headers.authorization).toBe('Bearer secret');
  });

  it('turns a 303 after a POST into a GET without the body', async () => {
    const answer = await client.request({
      method: 'POST',
      url: redirect(303, '/echo'),
      headers: { 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    const seen = JSON.parse(answer.body.toString());
    expect({ method: seen.method, body: seen.body, type: seen.headers['content-type'] }).toEqual({
      method: 'GET',
      body: '',
      type: undefined,
    });
  });

  it('follows at most five redirects by default and refuses the sixth', async () => {
    const before = upstream.received.length;
    const error = await refusal(client.request({ method: 'GET', url: `${upstream.origin}/loop/0` }));
    expect(error.message).toBe('outbound_blocked: redirect_limit');
    expect(upstream.received.slice(before).map((request) => request.url)).toEqual([
      '/loop/0',
      '/loop/1',
      '/loop/2',
      '/loop/3',
      '/loop/4',
      '/loop/5',
    ]);
    const capped = await refusal(client.request({ method: 'GET', url: `${upstream.origin}/loop/0`, maxRedirects: 1 }));
    expect(capped.reason).toBe('redirect_limit');
  });
});

describe('requests to allowed destinations', () => {
  let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
  let client: OutboundClient;
  beforeAll(async () => {
    upstream = await startHttpFixture((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.setHeader('x-upstream', ['one', 'two']);
      response.statusCode = request.url.startsWith('/missing') ? 404 : 200;
      response.end(JSON.stringify(request));
    });
    client = createOutboundClient({ allow: parseOutboundAllow(`127.0.0.1:${upstream.port}`) });
  });
  afterAll(() => Promise.all([client.close(), upstream.close()]));

  it('sends a GET with a query string and headers', async () => {
    const answer = await client.request({
      method: 'get',
      url: `${upstream.origin}/search?q=caf%C3%A9&page=2#ignored`,
      headers: { Accept: 'application/json', 'X-Request-Id': 'r-1' },
    });
    const seen = JSON.parse(answer.body.toString());
    expect({ status: answer.status, redirects: answer.redirects, url: answer.url }).toEqual({
      status: 200,
      redirects: 0,
      url: `${upstream.origin}/search?q=caf%C3%A9&page=2#ignored`,
    });
    expect({
      method: seen.method,
      url: seen.url,
      accept: seen.headers.accept,
      id: seen.headers['x-request-id'],
    }).toEqual({
      method: 'GET',
      url: '/search?q=caf%C3%A9&page=2',
      accept: 'application/json',
      id: 'r-1',
    });
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['x-upstream']).toBe('one, two');
  });

  it('sends a POST with a JSON body', async () => {
    const answer = await client.request({
      method: 'POST',
      url: `${upstream.origin}/items`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ünïcode', count: 2 }),
    });
    const seen = JSON.parse(answer.body.toString());
    expect({ method: seen.method, body: JSON.parse(seen.body), type: seen.headers['content-type'] }).toEqual({
      method: 'POST',
      body: { name: 'ünïcode', count: 2 },
      type: 'application/json',
    });
  });

  it('returns a 4xx answer as an answer, not an error', async () => {
    const answer = await client.request({ method: 'GET', url: `${upstream.origin}/missing` });
    expect(answer.status).toBe(404);
  });

  it('reaches only the allowed port of an allowed address', async () => {
    const error = await refusal(client.request({ method: 'GET', url: `http://127.0.0.1:${upstream.port + 1}/` }));
    expect(error.reason).toBe('address');
  });

  it('ignores proxy environment variables', async () => {
    const proxy = await startCountingListener();
    vi.stubEnv('HTTP_PROXY', `http://127.0.0.1:${proxy.port}`);
    vi.stubEnv('http_proxy', `http://127.0.0.1:${proxy.port}`);
    try {
      const fresh = createOutboundClient({ allow: parseOutboundAllow(`127.0.0.1:${upstream.port}`) });
      const answer = await fresh.request({ method: 'GET', url: `${upstream.origin}/direct` });
      expect(answer.status).toBe(200);
      expect(proxy.connections()).toBe(0);
      await fresh.close();
    } finally {
      vi.unstubAllEnvs();
      await proxy.close();
    }
  });
});
