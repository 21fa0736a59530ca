import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventSource } from 'eventsource';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, createThreadRef, injectRequest, type TestContext } from '../helpers/harness.js';
import { SseConnection, frames, httpJson, pollUntil, threadPath, type ThreadRef } from '../helpers/sse-client.js';

/**
 * Stream tokens (issue 8, item 4): `POST …/threads/{thread_id}/stream-token` issues a signed token
 * that opens that one thread's `GET …/stream` as `?token=` — so a browser's EventSource, which
 * cannot send headers, can follow a thread without an API key in a URL — and nothing else.
 */

const NOT_VALID = 'The stream token is not valid for this thread.';
const EXPIRED = 'The stream token has expired: request a new one (POST …/stream-token) and reconnect.';
const KEY_GONE = 'The API key that issued this stream token was revoked or has expired.';
const KEY_REVOKED = {
  id: undefined,
  event: 'stream-error',
  data: { type: 'stream-error', code: 'key_revoked', detail: 'The API key of this stream was revoked or has expired.' },
};

interface Issued {
  token: string;
  expires_at: string;
  stream_url: string;
}

async function issue(context: TestContext, thread: Pick<ThreadRef, 'agentId' | 'threadId'>, key: string) {
  const response = await client(context, key).request('POST', `${threadPath(thread)}/stream-token`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as Issued;
}

/** The follow route of `thread` with `token` (not necessarily the thread the token is for). */
function followUrl(thread: ThreadRef, token: string, query = ''): string {
  return `${thread.base}${threadPath(thread)}/stream?token=${encodeURIComponent(token)}${query}`;
}

/**
 * The token with one character of its signature changed: one in the middle, since the last
 * character of a base64url HMAC also carries padding bits a decoder may ignore.
 */
function tampered(token: string): string {
  const at = token.lastIndexOf('.') + 10;
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

function unauthorized(detail: string, code = 'invalid_stream_token') {
  return { detail, code, request_id: expect.any(String) };
}

/** A message stored without a run: two durable events on the thread. */
function postStoredMessage(thread: ThreadRef, content: string, base = thread.base) {
  return httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, { role: 'assistant', content });
}

/** Durable event `id` and name, as `SseConnection` received them. */
const seen = (connection: SseConnection) => connection.received.map((event) => `${event.id} ${event.event}`);

describe('stream tokens', () => {
  let context: TestContext;
  let base: string;
  let clockOffsetMs = 0;
  beforeAll(async () => {
    context = await createTestContext({ clock: { now: () => new Date(Date.now() + clockOffsetMs) } });
    base = await context.listen();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('issues a signed token for the thread, with its expiry and the URL of its follow route', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const before = Math.floor(Date.now() / 1000);
    const issued = await issue(context, thread, thread.key);
    const after = Math.floor(Date.now() / 1000);
    expect(Object.keys(issued).sort()).toEqual(['expires_at', 'stream_url', 'token']);
    expect(issued.stream_url).toBe(`${threadPath(thread)}/stream?token=${issued.token}`);
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(issued.token);
    const keyId = (await client(context, thread.key).get('/api/v1/api-keys')).body[0].id;
    expect(claims).toEqual({
      iss: 'parley',
      aud: 'parley:thread-stream',
      sub: keyId,
      organization_id: thread.organizationId,
      agent_id: thread.agentId,
      thread_id: thread.threadId,
      iat: expect.any(Number),
      exp: (claims.iat ?? 0) + 300,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(after);
    expect(issued.expires_at).toBe(new Date(claims.exp! * 1000).toISOString());
    expect(decodeJwt((await issue(context, thread, thread.key)).token).jti).not.toBe(claims.jti);
  });

  it('follows the thread with ?token= and no key, as a browser EventSource does', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const issued = await issue(context, thread, thread.key);
    const source = new EventSource(`${base}${issued.stream_url}`);
    const received: { id: string; type: string; data: any }[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      for (const type of ['message-start', 'message-end', 'stream-error']) {
        source.addEventListener(type, (event) => {
          received.push({ id: event.lastEventId, type, data: JSON.parse(event.data) });
          if (received.length === 2) resolve();
        });
      }
      source.onerror = (error) => reject(new Error(`EventSource failed: ${error.code} ${error.message}`));
    });
    try {
      await new Promise<void>((resolve) => (source.onopen = () => resolve()));
      const posted = await postStoredMessage(thread, 'Seen from a browser.');
      expect(posted.status).toBe(200);
      await ended;
      expect(received.map(({ id, type }) => `${id} ${type}`)).toEqual(['1 message-start', '2 message-end']);
      expect(received[1]!.data.message).toEqual(posted.body);
    } finally {
      source.close();
    }
  });

  it('works for a token issued by a read-only key, resumes with ?after= or Last-Event-ID, and takes ?format=', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const readOnly = (await httpJson(base, thread.key, 'POST', '/api/v1/api-keys', { scopes: ['read'] })).body
      .key as string;
    expect((await postStoredMessage(thread, 'First.')).status).toBe(200);
    const { token } = await issue(context, thread, readOnly);
    const replay = await SseConnection.open(followUrl(thread, token, '&after=0'));
    expect(replay.status).toBe(200);
    await replay.readUntil((event) => event.id === '2');
    replay.abort();
    const resumed = await SseConnection.open(followUrl(thread, token), { headers: { 'last-event-id': '1' } });
    await resumed.readUntil((event) => event.id === '2');
    resumed.abort();
    expect([seen(replay), seen(resumed)]).toEqual([['1 message-start', '2 message-end'], ['2 message-end']]);
    const aiSdk = await SseConnection.open(followUrl(thread, token, '&format=ai-sdk'));
    expect([aiSdk.status, aiSdk.header('x-vercel-ai-ui-message-stream')]).toEqual([200, 'v1']);
    aiSdk.abort();
  });

  it('refuses a token on another thread, or under another agent, with one answer', async () => {
    const first = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const api = client(context, first.key);
    const sibling = { ...first, threadId: (await api.createThread(first.agentId)).id };
    const otherAgent = (await api.createAgent()).id;
    const { token } = await issue(context, first, first.key);
    for (const url of [
      `${threadPath(sibling)}/stream?token=${token}`,
      `/api/v1/chat/${otherAgent}/threads/${first.threadId}/stream?token=${token}`,
    ]) {
      const refused = await injectRequest(context, { method: 'GET', url });
      expect({ status: refused.status, body: refused.body }).toEqual({ status: 401, body: unauthorized(NOT_VALID) });
    }
  });

  it('refuses a tampered, foreign, malformed or repeated token', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = decodeJwt(token);
    const otherPayload = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp! + 3600 })).toString('base64url');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const foreignKey = crypto.randomBytes(32);
    const foreign = `${header}.${payload}.${crypto.createHmac('sha256', foreignKey).update(`${header}.${payload}`).digest('base64url')}`;
    const path = `${threadPath(thread)}/stream`;
    for (const query of [
      `token=${tampered(token)}`,
      `token=${header}.${otherPayload}.${signature}`,
      `token=${unsigned}`,
      `token=${foreign}`,
      'token=not-a-token',
      'token=',
      `token=${token}&token=${token}`,
    ]) {
      const refused = await injectRequest(context, { method: 'GET', url: `${path}?${query}` });
      expect({ query, status: refused.status, body: refused.body }).toEqual({
        query,
        status: 401,
        body: unauthorized(NOT_VALID),
      });
    }
  });

  it('refuses an expired token, saying so; a stream already open goes on past the expiry', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    const open = await SseConnection.open(followUrl(thread, token));
    expect(open.status).toBe(200);
    try {
      clockOffsetMs = 301_000;
      const refused = await SseConnection.open(followUrl(thread, token));
      expect({ status: refused.status, body: refused.body }).toEqual({ status: 401, body: unauthorized(EXPIRED) });
      // Expired or not, a token for another thread says only that it is not valid there.
      const other = { ...thread, threadId: (await client(context, thread.key).createThread(thread.agentId)).id };
      expect((await SseConnection.open(followUrl(other, token))).body).toEqual(unauthorized(NOT_VALID));

      expect((await postStoredMessage(thread, 'Five minutes later.')).status).toBe(200);
      await open.readUntil((event) => event.id === '2');
      expect(seen(open)).toEqual(['1 message-start', '2 message-end']);
      // A new token, issued now, opens the stream again from where it was.
      const renewed = await issue(context, thread, thread.key);
      const resumed = await SseConnection.open(followUrl(thread, renewed.token, '&after=1'));
      await resumed.readUntil((event) => event.id === '2');
      resumed.abort();
    } finally {
      clockOffsetMs = 0;
      open.abort();
    }
  });

  it('is no credential on any other route, and never makes an API key one', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    const path = threadPath(thread);
    for (const [method, url] of [
      ['GET', `${path}/messages?token=${token}`],
      ['GET', `${path}?token=${token}`],
      ['POST', `${path}/stream-token?token=${token}`],
      ['GET', `${path}/stream?api_key=${thread.key}`],
      ['GET', `${path}/stream?token=${thread.key}`],
    ] as const) {
      const refused = await injectRequest(context, { method, url });
      const expected = url.includes('/stream?token=pk_')
        ? unauthorized(NOT_VALID)
        : unauthorized('A valid API key is required in the x-api-key header.', 'invalid_api_key');
      expect({ url, status: refused.status, body: refused.body }).toEqual({ url, status: 401, body: expected });
    }
  });

  it('lets an x-api-key header decide when both are given', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    const withKey = await SseConnection.open(followUrl(thread, 'not-a-token'), { key: thread.key });
    expect(withKey.status).toBe(200);
    withKey.abort();
    const badKey = await SseConnection.open(followUrl(thread, token), { key: 'pk_bad' });
    expect({ status: badKey.status, body: badKey.body }).toEqual({
      status: 401,
      body: unauthorized('A valid API key is required in the x-api-key header.', 'invalid_api_key'),
    });
  });

  it('answers 404 for another organisation’s thread, or a thread under another agent', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const stranger = await context.newOrganization();
    const strangerAgent = (await client(context, stranger.key).createAgent()).id;
    for (const [key, path] of [
      [stranger.key, threadPath(thread)],
      [thread.key, `/api/v1/chat/${strangerAgent}/threads/${thread.threadId}`],
      [thread.key, `/api/v1/chat/${thread.agentId}/threads/${crypto.randomUUID()}`],
    ] as const) {
      const refused = await client(context, key).request('POST', `${path}/stream-token`);
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 404,
        body: { detail: 'Chat thread not found.', code: 'thread_not_found', request_id: expect.any(String) },
      });
    }
  });

  it('ends a token-opened stream with key_revoked when its key is revoked; the token then opens none', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const created = await httpJson(base, thread.key, 'POST', '/api/v1/api-keys', { scopes: ['read'] });
    const { token } = await issue(context, thread, created.body.key);
    const follower = await SseConnection.open(followUrl(thread, token));
    expect(follower.status).toBe(200);
    expect(context.parley.sse.keyIds()).toContain(created.body.api_key.id);
    expect((await httpJson(base, thread.key, 'DELETE', `/api/v1/api-keys/${created.body.api_key.id}`)).status).toBe(
      200,
    );
    expect(frames(await follower.readToEnd())).toEqual([KEY_REVOKED]);
    const refused = await SseConnection.open(followUrl(thread, token));
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 401, body: unauthorized(KEY_GONE) });
  });

  it('never writes a token to the logs', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    const follower = await SseConnection.open(followUrl(thread, token));
    expect((await postStoredMessage(thread, 'Logged?')).status).toBe(200);
    await follower.readUntil((event) => event.id === '2');
    follower.abort();
    const other = { ...thread, threadId: (await client(context, thread.key).createThread(thread.agentId)).id };
    expect((await SseConnection.open(followUrl(other, token))).status).toBe(401);
    expect((await httpJson(base, null, 'GET', `${threadPath(thread)}/messages?token=${token}`)).status).toBe(401);
    expect((await httpJson(base, null, 'GET', `/nowhere?token=${token}`)).status).toBe(401);
    await pollUntil(() => (context.parley.sse.slotCount === 0 ? true : undefined), { what: 'streams closed' });
    expect(context.logs.length).toBeGreaterThan(0);
    const signature = token.split('.')[2]!;
    expect(context.logs.filter((line) => line.includes(signature))).toEqual([]);
  });
});

describe('stream tokens and the limits of their key', () => {
  let context: TestContext;
  let base: string;
  beforeAll(async () => {
    context = await createTestContext({ authFailureLimitPerMinute: 3, streams: { maxPerKey: 1 } });
    base = await context.listen();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('counts a token-opened stream against the stream limit of the key that issued it', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    const byKey = await SseConnection.open(`${base}${threadPath(thread)}/stream`, { key: thread.key });
    expect(byKey.status).toBe(200);
    const byToken = await SseConnection.open(followUrl(thread, token));
    expect({ status: byToken.status, code: byToken.body.code }).toEqual({ status: 429, code: 'too_many_streams' });
    byKey.abort();
    await pollUntil(() => (context.parley.sse.slotCount === 0 ? true : undefined), { what: 'the slot given back' });
    const second = await SseConnection.open(followUrl(thread, token));
    expect(second.status).toBe(200);
    second.abort();
  });

  it('counts a refused token as a failed authentication', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await SseConnection.open(followUrl(thread, tampered(token)))).status).toBe(401);
    }
    const limited = await SseConnection.open(followUrl(thread, token));
    expect({ status: limited.status, code: limited.body.code }).toEqual({
      status: 429,
      code: 'too_many_auth_failures',
    });
  });
});

describe('stream tokens across processes', () => {
  const secretKey = crypto.randomBytes(32);
  let context: TestContext;
  let base: string;
  beforeAll(async () => {
    context = await createTestContext({ secretKey });
    base = await context.listen();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('verify on a peer with the same PARLEY_SECRET_KEY, and not on one with another or none', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const { token } = await issue(context, thread, thread.key);
    const answers: Record<string, number> = {};
    for (const [name, overrides] of [
      ['same secret', {}],
      ['another secret', { secretKey: crypto.randomBytes(32) }],
      ['no secret', { secretKey: undefined }],
    ] as const) {
      const peer = await context.peer(overrides);
      const peerBase = await peer.listen();
      const follower = await SseConnection.open(followUrl({ ...thread, base: peerBase }, token));
      answers[name] = follower.status;
      follower.abort();
      await peer.close();
    }
    expect(answers).toEqual({ 'same secret': 200, 'another secret': 401, 'no secret': 401 });
  });

  it('announces the generated key file once, when PARLEY_SECRET_KEY is unset, and never logs a secret', async () => {
    const warnings = () => context.logs.filter((line) => line.includes('PARLEY_SECRET_KEY is not set'));
    const before = warnings().length;
    await (await context.peer()).close();
    expect(warnings()).toHaveLength(before);
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-fresh-data-'));
    const secretKeyFile = path.join(folder, 'secret.key');
    try {
      await (await context.peer({ secretKey: undefined, secretKeyFile })).close();
      expect(warnings()).toHaveLength(before + 1);
      expect(JSON.parse(warnings().at(-1)!)).toMatchObject({ level: 40, file: secretKeyFile });
      // The next start reads the file: nothing more is announced.
      await (await context.peer({ secretKey: undefined, secretKeyFile })).close();
      expect(warnings()).toHaveLength(before + 1);
      const generated = fs.readFileSync(secretKeyFile, 'utf8').trim();
      expect(context.logs.filter((line) => line.includes(generated))).toEqual([]);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
    for (const form of ['hex', 'base64', 'base64url'] as const) {
      expect(context.logs.filter((line) => line.includes(secretKey.toString(form)))).toEqual([]);
    }
  });

  it('verify between processes that share a data folder and no PARLEY_SECRET_KEY (its key file), not with another folder', async () => {
    const unset = await createTestContext();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-other-data-'));
    try {
      const unsetBase = await unset.listen();
      expect(fs.statSync(unset.secretKeyFile).mode & 0o777).toBe(0o600);
      const thread = await createThreadRef(unset, { base: unsetBase, configuration: { model: 'demo' } });
      const { token } = await issue(unset, thread, thread.key);
      const sharing = await unset.peer();
      const accepted = await SseConnection.open(followUrl({ ...thread, base: await sharing.listen() }, token));
      expect(accepted.status).toBe(200);
      accepted.abort();
      const other = await unset.peer({ secretKeyFile: path.join(elsewhere, 'secret.key') });
      const refused = await SseConnection.open(followUrl({ ...thread, base: await other.listen() }, token));
      expect({ status: refused.status, body: refused.body }).toEqual({ status: 401, body: unauthorized(NOT_VALID) });
    } finally {
      await unset.close();
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('stream tokens from another origin (CORS_ORIGINS)', () => {
  const APP = 'https://app.example';
  let context: TestContext;
  let base: string;
  beforeAll(async () => {
    context = await createTestContext({ corsOrigins: [APP] });
    base = await context.listen();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('answers the preflight of the POST, the POST and the token stream with the allowed origin', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const preflight = await injectRequest(context, {
      method: 'OPTIONS',
      url: `${threadPath(thread)}/stream-token`,
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': APP });
    const issued = await client(context, thread.key).request('POST', `${threadPath(thread)}/stream-token`, undefined, {
      origin: APP,
    });
    expect(issued.status).toBe(200);
    expect(issued.headers['access-control-allow-origin']).toBe(APP);
    const follower = await SseConnection.open(followUrl(thread, issued.body.token), { headers: { origin: APP } });
    expect([follower.status, follower.header('access-control-allow-origin')]).toEqual([200, APP]);
    follower.abort();
    const refused = await SseConnection.open(followUrl(thread, 'not-a-token'), { headers: { origin: APP } });
    expect([refused.status, refused.header('access-control-allow-origin')]).toEqual([401, APP]);
  });
});
