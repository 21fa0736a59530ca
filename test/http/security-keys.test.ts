import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import type { Api, Response } from '../helpers/harness.js';
import { SUPPORT_TEMPLATE } from '../helpers/ids.js';
import { bareRequest, dumpDatabase, expectedError, outcome, sqliteFileBytes } from '../helpers/routes.js';

/**
 * T7 and T8 (reliability.md): which keys are refused, and that a key cannot be recovered from
 * the database or the logs. The context runs with authCacheTtlMs 0 (no key cache).
 */

let context: TestContext;
let org: TestOrganization;
let admin: Api;

beforeAll(async () => {
  context = await createTestContext({ authCacheTtlMs: 0 });
  org = await context.newOrganization();
  admin = client(context, org.key);
  await admin.createAgent({ name: 'Existing agent' });
});
afterAll(async () => {
  await context.close();
});

/** The random part of `pk_<32 hex id>_<43 base64url>` (which may itself contain `_`). */
const secretOf = (key: string) => key.slice('pk_'.length + 32 + 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A random string in the key format: `pk_<32 hex>_<43 base64url>`. */
const randomSecret = () => crypto.randomBytes(32).toString('base64url');

async function createKeyThroughApi(body: Record<string, unknown>, headers?: Record<string, string>) {
  const response = await admin.post('/api/v1/api-keys', body, headers);
  expect(response.status, response.raw).toBe(200);
  return response.body as { api_key: { id: string; expires_at: string | null }; key: string };
}

describe('T7: keys that are refused', () => {
  it('answers 401 invalid_api_key to every malformed, unknown or misplaced key, on reads and writes alike', async () => {
    const key = org.key;
    const [, idHex] = /^pk_([0-9a-f]{32})_/.exec(key)!;
    const cases: Record<string, { headers?: Record<string, string | string[]>; query?: string }> = {
      'no header': {},
      'empty x-api-key': { headers: { 'x-api-key': '' } },
      'literal null': { headers: { 'x-api-key': 'null' } },
      'literal undefined': { headers: { 'x-api-key': 'undefined' } },
      whitespace: { headers: { 'x-api-key': '   ' } },
      'wrong prefix': { headers: { 'x-api-key': `sk_${key.slice(3)}` } },
      'upper-case key id': { headers: { 'x-api-key': `pk_${idHex!.toUpperCase()}_${secretOf(key)}` } },
      'truncated key': { headers: { 'x-api-key': key.slice(0, -1) } },
      'key with an extra character': { headers: { 'x-api-key': `${key}A` } },
      'right format, real key id, random secret': { headers: { 'x-api-key': `pk_${idHex}_${randomSecret()}` } },
      'right format, random id and secret': {
        headers: { 'x-api-key': `pk_${crypto.randomBytes(16).toString('hex')}_${randomSecret()}` },
      },
      'two x-api-key headers': { headers: { 'x-api-key': [key, key] } },
      'valid key as Authorization: Bearer': { headers: { authorization: `Bearer ${key}` } },
      'valid key as ?api_key=': { query: `api_key=${encodeURIComponent(key)}` },
      'valid key as ?x-api-key=': { query: `x-api-key=${encodeURIComponent(key)}` },
    };
    const databaseBefore = await dumpDatabase(context);
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    for (const [name, { headers, query }] of Object.entries(cases)) {
      const suffix = query ? `?${query}` : '';
      const responses: [string, Response][] = [
        [`${name}: GET`, await bareRequest(context, 'GET', `/api/v1/agents${suffix}`, { headers })],
        [
          `${name}: POST`,
          await bareRequest(context, 'POST', `/api/v1/agents${suffix}`, {
            headers,
            body: { name: 'Not allowed', configuration: {}, template_id: SUPPORT_TEMPLATE },
          }),
        ],
      ];
      for (const [label, response] of responses) {
        actual.push(outcome(label, response));
        expected.push(expectedError(label, response, 401, 'invalid_api_key'));
      }
    }
    expect(actual).toEqual(expected);
    expect(await dumpDatabase(context)).toEqual(databaseBefore);
    // The same key in the header works: the cases above failed for the reason they name.
    expect((await admin.get('/api/v1/agents')).status).toBe(200);
  });

  it('refuses a revoked key at once (no cache), with the envelope', async () => {
    const created = await createKeyThroughApi({ name: 'to revoke', scopes: ['read', 'write'] });
    const revocable = client(context, created.key);
    expect((await revocable.get('/api/v1/agents')).status).toBe(200);

    const revoked = await admin.delete(`/api/v1/api-keys/${created.api_key.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.id).toBe(created.api_key.id);
    expect(revoked.body.revoked_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const response = await revocable.get('/api/v1/agents');
    expect(outcome('revoked key', response)).toEqual(expectedError('revoked key', response, 401, 'invalid_api_key'));
    const write = await revocable.post('/api/v1/agents', {
      name: 'x',
      configuration: {},
      template_id: crypto.randomUUID(),
    });
    expect(outcome('revoked key', write)).toEqual(expectedError('revoked key', write, 401, 'invalid_api_key'));
    // Revoking again does not bring it back.
    expect((await admin.delete(`/api/v1/api-keys/${created.api_key.id}`)).body.revoked_at).toBe(
      revoked.body.revoked_at,
    );
    expect((await revocable.get('/api/v1/agents')).status).toBe(401);
  });

  it('refuses a revoked key at once on the instance that revoked it, even with a key cache', async () => {
    const cached = await createTestContext({ authCacheTtlMs: 60_000 });
    try {
      const owner = await cached.newOrganization();
      const ownerApi = client(cached, owner.key);
      const created = await ownerApi.post('/api/v1/api-keys', { scopes: ['read'] });
      expect(created.status).toBe(200);
      const victim = client(cached, created.body.key);
      expect((await victim.get('/api/v1/agents')).status).toBe(200); // now cached for 60 s
      expect((await ownerApi.delete(`/api/v1/api-keys/${created.body.api_key.id}`)).status).toBe(200);
      const response = await victim.get('/api/v1/agents');
      expect(outcome('revoked cached key', response)).toEqual(
        expectedError('revoked cached key', response, 401, 'invalid_api_key'),
      );
    } finally {
      await cached.close();
    }
  });

  it('refuses a key once its expiry has passed, and refuses to create an already expired key', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const fromHarness = client(context, await org.keyWith(['read'], { expiresAt }));
    const fromApi = await createKeyThroughApi({ name: 'short-lived', scopes: ['read'], expires_at: expiresAt });
    expect(fromApi.api_key.expires_at).toBe(expiresAt);
    const viaApi = client(context, fromApi.key);
    expect((await fromHarness.get('/api/v1/agents')).status).toBe(200);
    expect((await viaApi.get('/api/v1/agents')).status).toBe(200);

    await sleep(Date.parse(expiresAt) - Date.now() + 100);
    for (const [label, api] of [
      ['expired key (harness)', fromHarness],
      ['expired key (API)', viaApi],
    ] as const) {
      const response = await api.get('/api/v1/agents');
      expect(outcome(label, response)).toEqual(expectedError(label, response, 401, 'invalid_api_key'));
    }

    const past = await admin.post('/api/v1/api-keys', {
      scopes: ['read'],
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    expect(past.status).toBe(422);
    expect(past.body.code).toBe('validation_error');
    expect(past.body.detail).toEqual([
      { loc: ['body', 'expires_at'], msg: 'Expiry must be in the future', type: 'value_error' },
    ]);
  });
});

describe('T8: keys cannot be recovered from storage, logs or the API', () => {
  it('stores and logs no plaintext key or secret, and shows only prefix and last four', async () => {
    const keys: string[] = [org.key, await org.keyWith(['read']), await org.keyWith(['read', 'write'])];
    keys.push((await createKeyThroughApi({ name: 'plain', scopes: ['read'] })).key);
    const idempotencyKey = `t8-${crypto.randomUUID()}`;
    const withIdempotency = await createKeyThroughApi(
      { name: 'idempotent', scopes: ['read', 'write', 'admin'] },
      { 'idempotency-key': idempotencyKey },
    );
    keys.push(withIdempotency.key);
    const replay = await admin.post(
      '/api/v1/api-keys',
      { name: 'idempotent', scopes: ['read', 'write', 'admin'] },
      { 'idempotency-key': idempotencyKey },
    );
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ api_key: withIdempotency.api_key, key: null });

    // Give logging and storage every chance to see the keys: use each, misuse each.
    for (const key of keys) {
      expect((await client(context, key).get('/api/v1/agents')).status).toBe(200);
      expect((await client(context, `${key}x`).get('/api/v1/agents')).status).toBe(401);
      expect((await bareRequest(context, 'GET', `/api/v1/agents?api_key=${key}`)).status).toBe(401);
      expect((await client(context, key).get(`/api/v1/agents/${encodeURIComponent(key)}`)).status).toBe(422);
    }
    const secrets = keys.flatMap((key) => [key, secretOf(key)]);
    for (const key of keys) expect(secretOf(key)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const hits = (haystack: string | Buffer, where: string) =>
      secrets.filter((secret) => haystack.includes(secret)).map((secret) => `${where}: ${secret.slice(0, 12)}…`);
    const hashes = keys.map((key) => crypto.createHash('sha256').update(key).digest('hex'));

    const found: string[] = [];
    const dump = JSON.stringify(await dumpDatabase(context));
    found.push(...hits(dump, 'database rows'));
    if (context.database.target.kind === 'sqlite') {
      const bytes = sqliteFileBytes(context.database.target.filename);
      found.push(...hits(bytes, 'SQLite files'));
      // The scan sees the stored rows: each key's hash is there.
      for (const hash of hashes) expect(bytes.includes(hash), `hash ${hash} in the SQLite files`).toBe(true);
    }
    for (const hash of hashes) expect(dump.includes(hash), `hash ${hash} in the dump`).toBe(true);
    await sleep(20); // let the log stream deliver its last lines
    expect(context.logs.length).toBeGreaterThan(0);
    expect(context.logs.some((line) => line.includes('request completed'))).toBe(true);
    found.push(...hits(context.logs.join('\n'), 'logs'));
    expect(found).toEqual([]);

    const listed = await admin.get('/api/v1/api-keys');
    expect(listed.status).toBe(200);
    found.push(...hits(listed.raw, 'GET /api/v1/api-keys'));
    expect(found).toEqual([]);
    const fields = [
      'created_at',
      'expires_at',
      'id',
      'last_four',
      'name',
      'organization_id',
      'prefix',
      'revoked_at',
      'scopes',
      'user_id',
    ];
    for (const item of listed.body as Record<string, unknown>[]) {
      expect(Object.keys(item).sort()).toEqual(fields);
      expect(Object.keys(item).filter((field) => /hash|secret|key$/i.test(field))).toEqual([]);
      expect(item.prefix).toBe(`pk_${String(item.id).replaceAll('-', '')}_`);
    }
    for (const key of keys) {
      const id = key.slice(3, 35).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
      const item = (listed.body as Record<string, unknown>[]).find((candidate) => candidate.id === id);
      expect(item, `key ${id} listed`).toBeDefined();
      expect(item!.last_four).toBe(key.slice(-4));
      const single = await admin.get(`/api/v1/api-keys/${id}`);
      expect(single.body).toEqual(item);
      expect(hits(single.raw, `GET /api/v1/api-keys/${id}`)).toEqual([]);
    }
  });
});
