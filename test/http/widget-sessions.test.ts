import crypto from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { dumpDatabase, expectError } from '../helpers/routes.js';
import { UUID_PATTERN } from '../helpers/ids.js';
import { createWidgetKey, postSession, startSession, visitorClient, type CreatedWidgetKey } from '../helpers/widget.js';

/**
 * Widget sessions and visitor tokens (issue 12, part B): a page on an allowed origin exchanges a
 * publishable key for a short-lived HS256 token whose subject is a server-minted anon_user_id;
 * posting the current token back renews it and retires it. Expired, tampered, unsigned, foreign
 * and replayed tokens are refused with their own 401s.
 */

const SHOP = 'https://shop.example';
const ROOT = crypto.randomBytes(32);
const TTL = 900;
const RENEWAL = 3600;
const OTHER_ORIGIN = 'The visitor token was minted for another origin than this page’s.';
const SUPERSEDED = 'The visitor token was replaced by a renewal: use the latest token.';
const REVOKED = 'The widget key of this visitor session was revoked.';
const NOT_RENEWABLE =
  'The visitor token cannot renew this session: it was renewed already, is too old, or belongs to another widget key or origin. Start a new session.';

let now = Date.parse('2026-03-01T10:00:00.000Z');
const clock = { now: () => new Date(now) };
let context: TestContext;
let admin: Api;
let agentId: string;
let widgetKey: CreatedWidgetKey;

/** The key the server signs visitor tokens with, derived as it does (HKDF-SHA256, the purpose as info). */
const signingKey = new Uint8Array(
  crypto.hkdfSync('sha256', ROOT, Buffer.alloc(0), 'parley widget visitor tokens v1', 32),
);

function unauthorized(detail: string, code = 'invalid_widget_token') {
  return { detail, code, request_id: expect.any(String) };
}

beforeAll(async () => {
  context = await createTestContext({
    clock,
    secretKey: ROOT,
    widget: { tokenTtlSeconds: TTL, renewalWindowSeconds: RENEWAL },
  });
  const organization = await context.newOrganization();
  admin = client(context, organization.key);
  agentId = (await admin.createAgent({ name: 'Shop assistant' })).id;
  widgetKey = await createWidgetKey(admin, agentId, [SHOP, 'http://localhost:5173']);
});
afterAll(() => context.close());

describe('minting a session', () => {
  it('gives a page on an allowed origin a signed HS256 token for a new anonymous user', async () => {
    const session = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP });
    expect(session).toEqual({
      token: expect.any(String),
      anon_user_id: expect.stringMatching(UUID_PATTERN),
      agent_id: agentId,
      expires_at: new Date(Math.floor(now / 1000) * 1000 + TTL * 1000).toISOString(),
    });
    expect(decodeProtectedHeader(session.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(session.token);
    expect(claims).toEqual({
      iss: 'parley',
      aud: 'parley:widget-visitor',
      sub: session.anon_user_id,
      organization_id: widgetKey.organization_id,
      agent_id: agentId,
      widget_key_id: widgetKey.id,
      generation: 0,
      origin: SHOP,
      iat: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + TTL,
      jti: expect.stringMatching(UUID_PATTERN),
    });
    const stored = (await dumpDatabase(context)).anonymous_users!.find((row: any) => row.id === session.anon_user_id);
    expect(stored).toMatchObject({
      widget_key_id: widgetKey.id,
      agent_id: agentId,
      token_generation: 0,
      widget_user_id: null,
    });
    const visitor = visitorClient(context, session.token, SHOP);
    expect((await visitor.get(`/api/v1/chat/${agentId}/threads`)).body).toEqual([]);
  });

  it('refuses another origin, a missing Origin, a malformed, unknown or revoked key — minting nothing', async () => {
    const other = await createWidgetKey(admin, agentId, [SHOP]);
    await admin.delete(`/api/v1/widget-keys/${other.id}`);
    const before = await dumpDatabase(context);
    const key = widgetKey.publishable_key;
    expectError(
      await postSession(context, { widgetKey: key, origin: 'https://evil.example' }),
      403,
      'widget_origin_not_allowed',
    );
    expectError(
      await postSession(context, { widgetKey: key, origin: 'https://shop.example:8443' }),
      403,
      'widget_origin_not_allowed',
    );
    expectError(await postSession(context, { widgetKey: key, origin: undefined }), 403, 'widget_origin_not_allowed');
    expectError(await postSession(context, { widgetKey: 'pwk_nope', origin: SHOP }), 401, 'invalid_widget_key');
    const unknown = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expectError(await postSession(context, { widgetKey: unknown, origin: SHOP }), 401, 'invalid_widget_key');
    expectError(
      await postSession(context, { widgetKey: other.publishable_key, origin: SHOP }),
      401,
      'invalid_widget_key',
    );
    expect(await dumpDatabase(context)).toEqual(before);
  });
});

describe('visitor tokens', () => {
  it('are refused once expired, with their own code', async () => {
    const session = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP });
    const visitor = visitorClient(context, session.token, SHOP);
    now += (TTL - 1) * 1000;
    expect((await visitor.get(`/api/v1/chat/${agentId}/threads`)).status).toBe(200);
    now += 2000;
    const expired = await visitor.get(`/api/v1/chat/${agentId}/threads`);
    expect({ status: expired.status, body: expired.body }).toEqual({
      status: 401,
      body: unauthorized(
        'The visitor token has expired: renew it by posting it to POST /api/v1/widget/sessions.',
        'widget_token_expired',
      ),
    });
  });

  it('refuse a tampered, unsigned, re-signed or foreign token, and one from another origin', async () => {
    const session = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP });
    const claims = decodeJwt(session.token);
    const at = session.token.lastIndexOf('.') + 10;
    const tampered = session.token.slice(0, at) + (session.token[at] === 'A' ? 'B' : 'A') + session.token.slice(at + 1);
    const unsigned = new UnsecuredJWT(claims).encode();
    // The right key, but not the pinned algorithm.
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512', typ: 'JWT' }).sign(signingKey);
    const otherKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(crypto.randomBytes(32));
    const otherAudience = await new SignJWT({ ...claims, aud: 'parley:thread-stream' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(signingKey);
    const payloadSwapped = [
      session.token.split('.')[0],
      Buffer.from(JSON.stringify({ ...claims, agent_id: crypto.randomUUID() })).toString('base64url'),
      session.token.split('.')[2],
    ].join('.');
    for (const [name, token] of Object.entries({
      tampered,
      unsigned,
      hs512,
      otherKey,
      otherAudience,
      payloadSwapped,
    })) {
      const response = await visitorClient(context, token, SHOP).get(`/api/v1/chat/${agentId}/threads`);
      expect({ name, status: response.status, body: response.body }).toEqual({
        name,
        status: 401,
        body: unauthorized(
          'The visitor token is not valid: start a new widget session (POST /api/v1/widget/sessions).',
        ),
      });
    }
    const elsewhere = await visitorClient(context, session.token, 'http://localhost:5173').get(
      `/api/v1/chat/${agentId}/threads`,
    );
    expect({ status: elsewhere.status, body: elsewhere.body }).toEqual({
      status: 401,
      body: unauthorized(OTHER_ORIGIN),
    });
    // No Origin (not a page of another origin): accepted.
    expect((await visitorClient(context, session.token, undefined).get(`/api/v1/chat/${agentId}/threads`)).status).toBe(
      200,
    );
  });

  it('renew with the same anon_user_id; the token renewed, and any older one, is refused from then on', async () => {
    const first = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP });
    now += (TTL + 60) * 1000;
    const second = await startSession(context, {
      widgetKey: widgetKey.publishable_key,
      origin: SHOP,
      token: first.token,
    });
    expect(second.anon_user_id).toBe(first.anon_user_id);
    expect(decodeJwt(second.token)).toMatchObject({ sub: first.anon_user_id, generation: 1 });
    const third = await startSession(context, {
      widgetKey: widgetKey.publishable_key,
      origin: SHOP,
      token: second.token,
    });
    expect(decodeJwt(third.token)).toMatchObject({ sub: first.anon_user_id, generation: 2 });
    const path = `/api/v1/chat/${agentId}/threads`;
    expect((await visitorClient(context, third.token, SHOP).get(path)).status).toBe(200);
    // `second` is unexpired but was renewed: replaying it is refused.
    const replayed = await visitorClient(context, second.token, SHOP).get(path);
    expect({ status: replayed.status, body: replayed.body }).toEqual({ status: 401, body: unauthorized(SUPERSEDED) });
    for (const old of [first.token, second.token]) {
      const again = await postSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP, token: old });
      expect({ status: again.status, body: again.body }).toEqual({ status: 401, body: unauthorized(NOT_RENEWABLE) });
    }
    // From another allowed origin, the session is not renewable either.
    const moved = await postSession(context, {
      widgetKey: widgetKey.publishable_key,
      origin: 'http://localhost:5173',
      token: third.token,
    });
    expect({ status: moved.status, body: moved.body }).toEqual({ status: 401, body: unauthorized(NOT_RENEWABLE) });
    const stored = (await dumpDatabase(context)).anonymous_users!.find((row: any) => row.id === first.anon_user_id);
    expect(stored).toMatchObject({ token_generation: 2 });
  });

  it('stop renewing past the renewal window', async () => {
    const session = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP });
    now += (TTL + RENEWAL + 1) * 1000;
    const late = await postSession(context, {
      widgetKey: widgetKey.publishable_key,
      origin: SHOP,
      token: session.token,
    });
    expect({ status: late.status, body: late.body }).toEqual({ status: 401, body: unauthorized(NOT_RENEWABLE) });
  });

  it('are refused once their widget key is revoked', async () => {
    const key = await createWidgetKey(admin, agentId, [SHOP]);
    const session = await startSession(context, { widgetKey: key.publishable_key, origin: SHOP });
    const visitor = visitorClient(context, session.token, SHOP);
    expect((await visitor.get(`/api/v1/chat/${agentId}/threads`)).status).toBe(200);
    await admin.delete(`/api/v1/widget-keys/${key.id}`);
    const refused = await visitor.get(`/api/v1/chat/${agentId}/threads`);
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 401, body: unauthorized(REVOKED) });
  });

  it('are not API keys, and an API key is not a visitor token', async () => {
    const session = await startSession(context, { widgetKey: widgetKey.publishable_key, origin: SHOP });
    // x-api-key decides when both are sent.
    const both = await visitorClient(context, session.token, SHOP).get('/api/v1/agents', { 'x-api-key': admin.key });
    expect(both.status).toBe(200);
    // An API key in the Authorization header is no credential at all: the answer for none.
    const asBearer = await visitorClient(context, admin.key, SHOP).get(`/api/v1/chat/${agentId}/threads`);
    expectError(asBearer, 401, 'invalid_api_key');
  });
});
