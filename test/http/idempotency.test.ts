import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ParleyApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { IDEMPOTENCY_TTL_MS } from '../../src/storage/store.js';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import type { Api, Response } from '../helpers/harness.js';
import { BLANK_TEMPLATE } from '../helpers/ids.js';

/**
 * T27: `Idempotency-Key` on creating POSTs — replay, reuse with another request, concurrency,
 * per-organisation scope, key format, failed requests, and the record written in the same
 * transaction as the object it describes.
 */

let context: TestContext;
let organization: TestOrganization;
let api: Api;
let agentId: string;

const newKey = () => `key-${crypto.randomUUID()}`;
const withKey = (key: string) => ({ 'idempotency-key': key });

function expectError(response: Response, status: number, code: string, detail: string): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status,
    body: { detail, code, request_id: response.headers['x-request-id'] },
  });
}

const expectReused = (response: Response) =>
  expectError(
    response,
    422,
    'idempotency_key_reused',
    'This Idempotency-Key was already used with a different request.',
  );
const expectInFlight = (response: Response) =>
  expectError(
    response,
    409,
    'idempotency_key_in_flight',
    'A request with this Idempotency-Key is still being processed.',
  );

async function threadIds(caller: Api = api, agent: string = agentId): Promise<string[]> {
  const listed = await caller.get(`/api/v1/chat/${agent}/threads?limit=100&include_messages=false`);
  expect(listed.status).toBe(200);
  return (listed.body as { id: string }[]).map((thread) => thread.id).sort();
}

async function agentIds(caller: Api = api): Promise<string[]> {
  const listed = await caller.get('/api/v1/agents?limit=100');
  expect(listed.status).toBe(200);
  return (listed.body as { id: string }[]).map((agent) => agent.id).sort();
}

async function keyIds(caller: Api = api): Promise<string[]> {
  const listed = await caller.get('/api/v1/api-keys');
  expect(listed.status).toBe(200);
  return (listed.body as { id: string }[]).map((key) => key.id).sort();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends two requests with the same Idempotency-Key at once while another write unit holds an
 * uncommitted record of that key, so neither request can commit until the hold is released — on
 * SQLite they queue behind its open transaction, on PostgreSQL their record insert waits for it.
 * Their overlap therefore does not depend on timing. The hold is released (rolled back) as soon as
 * one request has answered, or after `releaseAfterMs` when both are expected to be waiting;
 * `answeredWhileHeld` says which.
 */
async function raceWithKeyHeld(
  key: string,
  sends: [() => Promise<Response>, () => Promise<Response>],
  releaseAfterMs: number,
): Promise<{ responses: [Response, Response]; answeredWhileHeld: boolean }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const hold = context.store
    .write(async (writers) => {
      const now = new Date();
      await writers.idempotency.record({
        organization_id: organization.organizationId,
        key,
        fingerprint: 'held by the test',
        status_code: 200,
        body: {},
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
      });
      held();
      await released;
      throw new Error('the hold never commits');
    })
    .catch((error: unknown) => error);
  await holding;
  const first = sends[0]();
  const second = sends[1]();
  const answeredWhileHeld = await Promise.race([
    first.then(() => true),
    second.then(() => true),
    sleep(releaseAfterMs).then(() => false),
  ]);
  release();
  expect(await hold).toEqual(new Error('the hold never commits'));
  return { responses: await Promise.all([first, second]), answeredWhileHeld };
}

beforeAll(async () => {
  context = await createTestContext();
  organization = await context.newOrganization();
  api = client(context, organization.key);
  agentId = (await api.createAgent({ name: 'Idempotency target' })).id;
});
afterAll(async () => {
  await context.close();
});

describe('POST /api/v1/chat/{agent_id}/threads with Idempotency-Key', () => {
  const url = () => `/api/v1/chat/${agentId}/threads`;

  it('(a) same key, same body, sequentially: identical status and body, replay header, one row', async () => {
    const before = await threadIds();
    const key = newKey();
    const body = { agent_id: agentId, title: 'Once only', metadata: { attempt: 1 } };
    const first = await api.post(url(), body, withKey(key));
    expect(first.status).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    for (let attempt = 0; attempt < 3; attempt += 1) {
      const replay = await api.post(url(), body, withKey(key));
      expect(replay.status).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.headers['content-type']).toBe(first.headers['content-type']);
      expect(replay.raw).toBe(first.raw);
      // A replay is still a response of its own.
      expect(replay.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    }

    expect(await threadIds()).toEqual([...before, first.body.id].sort());
    expect((await api.get(`/api/v1/chat/${agentId}/threads/${first.body.id}`)).body).toEqual(first.body);
  });

  it('a replay answers from the record and does not run again: after a delete it still returns the original, creating nothing', async () => {
    const key = newKey();
    const body = { title: 'Deleted later' };
    const first = await api.post(url(), body, withKey(key));
    expect(first.status).toBe(200);
    expect((await api.delete(`/api/v1/chat/${agentId}/threads/${first.body.id}`)).status).toBe(204);
    const before = await threadIds();
    const replay = await api.post(url(), body, withKey(key));
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.raw).toBe(first.raw);
    expect(await threadIds()).toEqual(before);
  });

  it('a body differing only in ignored fields is the same request', async () => {
    const key = newKey();
    const first = await api.post(url(), { title: 'Ignored fields' }, withKey(key));
    expect(first.status).toBe(200);
    const replay = await api.post(url(), { title: 'Ignored fields', id: crypto.randomUUID() }, withKey(key));
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.raw).toBe(first.raw);
  });

  it('(b) same key, different body → 422 idempotency_key_reused, nothing created', async () => {
    const key = newKey();
    const first = await api.post(url(), { title: 'Original' }, withKey(key));
    expect(first.status).toBe(200);
    const before = await threadIds();

    expectReused(await api.post(url(), { title: 'Changed' }, withKey(key)));
    expectReused(await api.post(url(), { title: 'Original', metadata: { extra: true } }, withKey(key)));
    expectReused(await api.post(url(), { title: null }, withKey(key)));
    expect(await threadIds()).toEqual(before);

    // Another path or method with the same key is another request too.
    const otherAgent = await api.createAgent({ name: 'Other path' });
    expectReused(await api.post(`/api/v1/chat/${otherAgent.id}/threads`, { title: 'Original' }, withKey(key)));
    expect(await threadIds(api, otherAgent.id)).toEqual([]);
    const agentsBefore = await agentIds();
    expectReused(
      await api.post(
        '/api/v1/agents',
        { name: 'Original', configuration: {}, template_id: BLANK_TEMPLATE },
        withKey(key),
      ),
    );
    expect(await agentIds()).toEqual(agentsBefore);

    // The original request still replays.
    const replay = await api.post(url(), { title: 'Original' }, withKey(key));
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.raw).toBe(first.raw);
  });

  it('(c) two concurrent requests with the same key: one 200, one 409 idempotency_key_in_flight, one thread', async () => {
    for (let round = 0; round < 3; round += 1) {
      const before = await threadIds();
      const key = newKey();
      const body = { title: `Concurrent ${round}` };
      const send = () => api.post(url(), body, withKey(key));
      const { responses, answeredWhileHeld } = await raceWithKeyHeld(key, [send, send], 2_000);
      expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
      // The 409 came at once, from this process's guard, not after the database settled it.
      expect(answeredWhileHeld).toBe(true);
      const winner = responses.find((response) => response.status === 200)!;
      expect(winner.headers['idempotent-replayed']).toBeUndefined();
      expect(winner.body.title).toBe(body.title);
      expectInFlight(responses.find((response) => response.status === 409)!);
      expect(await threadIds()).toEqual([...before, winner.body.id].sort());

      // Retrying the loser once the winner has finished gets the winner's response.
      const retry = await send();
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.raw).toBe(winner.raw);
    }
  });

  it('(c) left to the event loop alone, two concurrent requests with one key still make one thread', async () => {
    for (let round = 0; round < 10; round += 1) {
      const before = await threadIds();
      const key = newKey();
      const send = () => api.post(url(), { title: `Unaided ${round}` }, withKey(key));
      const responses = await Promise.all([send(), send()]);
      const executed = responses.filter(
        (response) => response.status === 200 && response.headers['idempotent-replayed'] === undefined,
      );
      expect(executed).toHaveLength(1);
      const other = responses.find((response) => response !== executed[0])!;
      // Usually 409; when the first has already committed, the second is its replay.
      if (other.status === 200) expect(other.raw).toBe(executed[0]!.raw);
      else expectInFlight(other);
      expect(await threadIds()).toEqual([...before, executed[0]!.body.id].sort());
    }
  });

  it("(c) across two server instances on one database: one 200, one 409, and the loser's thread rolled back", async () => {
    const second = await createApp({
      config: { ...loadConfig({}), database: context.database.target, logLevel: 'silent', authCacheTtlMs: 0 },
      store: context.store,
    });
    try {
      const sendTo = (parley: ParleyApp, key: string, body: unknown) => async (): Promise<Response> => {
        const response = await parley.app.inject({
          method: 'POST',
          url: url(),
          headers: { 'x-api-key': organization.key, 'content-type': 'application/json', ...withKey(key) },
          payload: JSON.stringify(body),
        });
        return { status: response.statusCode, headers: response.headers, body: response.json(), raw: response.body };
      };
      for (let round = 0; round < 2; round += 1) {
        const before = await threadIds();
        const key = newKey();
        const body = { title: `Two instances ${round}` };
        // Each instance has its own in-process guard, so both requests run their unit and wait on
        // the hold; after it rolls back, the record's primary key lets one commit and rolls back
        // the other's thread with it.
        const { responses, answeredWhileHeld } = await raceWithKeyHeld(
          key,
          [sendTo(context.parley, key, body), sendTo(second, key, body)],
          300,
        );
        expect(answeredWhileHeld).toBe(false);
        expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
        const winner = responses.find((response) => response.status === 200)!;
        expect(winner.headers['idempotent-replayed']).toBeUndefined();
        expectInFlight(responses.find((response) => response.status === 409)!);
        expect(await threadIds()).toEqual([...before, winner.body.id].sort());
        for (const parley of [context.parley, second]) {
          const retry = await sendTo(parley, key, body)();
          expect(retry.headers['idempotent-replayed']).toBe('true');
          expect(retry.raw).toBe(winner.raw);
        }
      }
    } finally {
      await second.app.close();
    }
  });

  it("(d) org B reusing org A's key string gets its own execution", async () => {
    const key = newKey();
    const body = { title: 'Same key, two organisations' };
    const first = await api.post(url(), body, withKey(key));
    expect(first.status).toBe(200);

    const orgB = await context.newOrganization();
    const apiB = client(context, orgB.key);
    // The very same request from B — A's path, A's body, A's key — is B's own, not a replay of
    // A's recorded response: B cannot see A's agent.
    const bOnA = await apiB.post(url(), body, withKey(key));
    expectError(bOnA, 404, 'agent_not_found', 'Agent not found.');
    expect(bOnA.raw).not.toContain(first.body.id);

    const agentB = await apiB.createAgent({ name: 'B agent' });
    const forB = await apiB.post(`/api/v1/chat/${agentB.id}/threads`, body, withKey(key));
    expect(forB.status).toBe(200);
    expect(forB.headers['idempotent-replayed']).toBeUndefined();
    expect(forB.body.id).not.toBe(first.body.id);
    expect(forB.body).toMatchObject({ organization_id: orgB.organizationId, agent_id: agentB.id, title: body.title });
    expect(await threadIds(apiB, agentB.id)).toEqual([forB.body.id]);
    const replayB = await apiB.post(`/api/v1/chat/${agentB.id}/threads`, body, withKey(key));
    expect(replayB.headers['idempotent-replayed']).toBe('true');
    expect(replayB.raw).toBe(forB.raw);

    // A's record is untouched.
    const replayA = await api.post(url(), body, withKey(key));
    expect(replayA.headers['idempotent-replayed']).toBe('true');
    expect(replayA.raw).toBe(first.raw);
  });

  it('(e) a key of 256 characters, an empty key, or one with a space or a non-ASCII character → 422 at ["header","idempotency-key"]', async () => {
    const before = await threadIds();
    for (const key of ['k'.repeat(256), '', 'has space', 'tab\there', 'caf\u00e9']) {
      const response = await api.post(url(), { title: 'Bad key' }, withKey(key));
      expect({ status: response.status, body: response.body }, JSON.stringify(key)).toEqual({
        status: 422,
        body: {
          detail: [
            {
              loc: ['header', 'idempotency-key'],
              msg: 'Idempotency-Key must be 1 to 255 printable ASCII characters',
              type: 'string_pattern_mismatch',
            },
          ],
          code: 'validation_error',
          request_id: response.headers['x-request-id'],
        },
      });
    }
    expect(await threadIds()).toEqual(before);
  });

  it('(e) a key of exactly 255 printable characters works', async () => {
    const key = `${'!~'.repeat(127)}${crypto.randomInt(10)}`;
    expect(key).toHaveLength(255);
    const first = await api.post(url(), { title: 'Long key' }, withKey(key));
    expect(first.status).toBe(200);
    const replay = await api.post(url(), { title: 'Long key' }, withKey(key));
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.raw).toBe(first.raw);
  });

  it('(f) a request that failed validation, retried corrected with the same key, executes', async () => {
    const key = newKey();
    const before = await threadIds();
    const invalid = await api.post(url(), { title: 5 }, withKey(key));
    expect(invalid.status).toBe(422);
    expect(invalid.body.detail).toEqual([
      { loc: ['body', 'title'], msg: 'Input should be a valid string', type: 'string_type' },
    ]);
    // The same invalid request again is validated again, not replayed.
    const again = await api.post(url(), { title: 5 }, withKey(key));
    expect(again.status).toBe(422);
    expect(again.headers['idempotent-replayed']).toBeUndefined();

    const corrected = await api.post(url(), { title: 'Corrected' }, withKey(key));
    expect(corrected.status).toBe(200);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
    expect(corrected.body.title).toBe('Corrected');
    expect(await threadIds()).toEqual([...before, corrected.body.id].sort());
  });

  it('(f) a request that failed inside its transaction (404) records nothing: the corrected retry executes', async () => {
    const key = newKey();
    const missingAgent = crypto.randomUUID();
    const failed = await api.post(`/api/v1/chat/${missingAgent}/threads`, { title: 'Nowhere' }, withKey(key));
    expectError(failed, 404, 'agent_not_found', 'Agent not found.');
    const failedAgain = await api.post(`/api/v1/chat/${missingAgent}/threads`, { title: 'Nowhere' }, withKey(key));
    expectError(failedAgain, 404, 'agent_not_found', 'Agent not found.');
    expect(failedAgain.headers['idempotent-replayed']).toBeUndefined();

    const corrected = await api.post(url(), { title: 'Somewhere' }, withKey(key));
    expect(corrected.status).toBe(200);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a record older than 24 hours no longer replays: the request executes again', async () => {
    const key = newKey();
    const body = { title: 'Expires' };
    const first = await api.post(url(), body, withKey(key));
    expect(first.status).toBe(200);
    const later = await createApp({
      config: { ...loadConfig({}), database: context.database.target, logLevel: 'silent', authCacheTtlMs: 0 },
      store: context.store,
      clock: { now: () => new Date(Date.now() + IDEMPOTENCY_TTL_MS + 60_000) },
    });
    try {
      const response = await later.app.inject({
        method: 'POST',
        url: url(),
        headers: { 'x-api-key': organization.key, 'content-type': 'application/json', ...withKey(key) },
        payload: JSON.stringify(body),
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['idempotent-replayed']).toBeUndefined();
      expect(response.json().id).not.toBe(first.body.id);
      // …and the new response is the one recorded from then on.
      const replay = await later.app.inject({
        method: 'POST',
        url: url(),
        headers: { 'x-api-key': organization.key, 'content-type': 'application/json', ...withKey(key) },
        payload: JSON.stringify(body),
      });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toBe(response.body);
    } finally {
      await later.app.close();
    }
  });
});

describe('(g) POST /api/v1/agents with Idempotency-Key', () => {
  const body = {
    name: 'Idempotent agent',
    configuration: { tone: 'Calm' },
    template_id: BLANK_TEMPLATE,
    metadata: { a: 1 },
  };

  it('replays the same agent, once', async () => {
    const before = await agentIds();
    const key = newKey();
    const first = await api.post('/api/v1/agents', body, withKey(key));
    expect(first.status).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const replay = await api.post('/api/v1/agents', body, withKey(key));
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.raw).toBe(first.raw);
    expect(await agentIds()).toEqual([...before, first.body.id].sort());
    expect((await api.get(`/api/v1/agents/${first.body.id}`)).body).toEqual(first.body);

    expectReused(await api.post('/api/v1/agents', { ...body, name: 'Another agent' }, withKey(key)));
    expect(await agentIds()).toEqual([...before, first.body.id].sort());
  });

  it('fingerprints a deep body as before: SHA-256 of the method, the path and the JSON with sorted keys', async () => {
    // The string-building implementation records from earlier versions were made with.
    const canonical = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
      if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
        return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
      }
      return JSON.stringify(value) ?? 'null';
    };
    let nested: unknown = { z: 'déjà \u{1f600} "quoted"', a: [1, null, true, { y: 2, b: [] }] };
    for (let depth = 0; depth < 150; depth += 1) nested = depth % 2 ? { b: nested, a: depth } : [depth, nested];
    const deep = { template_id: BLANK_TEMPLATE, configuration: { tone: 'Deep', nested }, name: 'Deep agent' };
    const key = newKey();
    expect((await api.post('/api/v1/agents', deep, withKey(key))).status).toBe(200);
    const recorded = await context.store.idempotency.find({
      organizationId: organization.organizationId,
      key,
      now: new Date().toISOString(),
    });
    const expected = crypto
      .createHash('sha256')
      .update(`POST /api/v1/agents\n${canonical(deep)}`)
      .digest('hex');
    expect(recorded?.fingerprint).toBe(expected);
    const reordered = { name: deep.name, configuration: { nested, tone: 'Deep' }, template_id: BLANK_TEMPLATE };
    expect((await api.post('/api/v1/agents', reordered, withKey(key))).headers['idempotent-replayed']).toBe('true');
  });

  it('two concurrent creations with one key make one agent', async () => {
    const before = await agentIds();
    const key = newKey();
    const send = () => api.post('/api/v1/agents', body, withKey(key));
    const { responses, answeredWhileHeld } = await raceWithKeyHeld(key, [send, send], 2_000);
    expect(answeredWhileHeld).toBe(true);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    expectInFlight(responses.find((response) => response.status === 409)!);
    const winner = responses.find((response) => response.status === 200)!;
    expect(await agentIds()).toEqual([...before, winner.body.id].sort());
  });

  it('an unknown template (422 from the service) records nothing: the corrected retry executes', async () => {
    const key = newKey();
    const failed = await api.post('/api/v1/agents', { ...body, template_id: crypto.randomUUID() }, withKey(key));
    expect(failed.status).toBe(422);
    expect(failed.body.detail[0].type).toBe('template_not_found');
    const corrected = await api.post('/api/v1/agents', body, withKey(key));
    expect(corrected.status).toBe(200);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('(g) POST /api/v1/api-keys with Idempotency-Key', () => {
  it('replays the key without its secret (`key: null`), and creates one key', async () => {
    const before = await keyIds();
    const idempotencyKey = newKey();
    const body = { name: 'Idempotent key', scopes: ['read'] };
    const first = await api.post('/api/v1/api-keys', body, withKey(idempotencyKey));
    expect(first.status).toBe(200);
    expect(typeof first.body.key).toBe('string');
    expect(first.body.key.length).toBeGreaterThan(20);
    expect(first.body.key.endsWith(first.body.api_key.last_four)).toBe(true);

    const replay = await api.post('/api/v1/api-keys', body, withKey(idempotencyKey));
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ api_key: first.body.api_key, key: null });
    expect(replay.raw).not.toContain(first.body.key);
    expect(await keyIds()).toEqual([...before, first.body.api_key.id].sort());

    // The secret from the first response is the one that works.
    const created = client(context, first.body.key);
    expect((await created.get('/api/v1/agents')).status).toBe(200);

    expectReused(await api.post('/api/v1/api-keys', { ...body, scopes: ['write'] }, withKey(idempotencyKey)));
    expect(await keyIds()).toEqual([...before, first.body.api_key.id].sort());
  });

  it('the secret is stored nowhere: not in the idempotency record', async () => {
    const idempotencyKey = newKey();
    const first = await api.post('/api/v1/api-keys', { scopes: ['read'] }, withKey(idempotencyKey));
    expect(first.status).toBe(200);
    const record = await context.store.idempotency.find({
      organizationId: organization.organizationId,
      key: idempotencyKey,
      now: new Date().toISOString(),
    });
    expect(record).not.toBeNull();
    expect(record!.response_json).not.toContain(first.body.key);
    expect(JSON.parse(record!.response_json)).toEqual({ api_key: first.body.api_key, key: null });
  });

  it('two concurrent creations with one key make one API key', async () => {
    const before = await keyIds();
    const idempotencyKey = newKey();
    const send = () => api.post('/api/v1/api-keys', { scopes: ['read'] }, withKey(idempotencyKey));
    const { responses, answeredWhileHeld } = await raceWithKeyHeld(idempotencyKey, [send, send], 2_000);
    expect(answeredWhileHeld).toBe(true);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    expectInFlight(responses.find((response) => response.status === 409)!);
    const winner = responses.find((response) => response.status === 200)!;
    expect(await keyIds()).toEqual([...before, winner.body.api_key.id].sort());
  });
});

describe('(h) the record is written in the same transaction as the object', () => {
  it('after a create and its replays, exactly one thread and one record exist', async () => {
    const key = newKey();
    const before = await threadIds();
    const first = await api.post(`/api/v1/chat/${agentId}/threads`, { title: 'One transaction' }, withKey(key));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await api.post(`/api/v1/chat/${agentId}/threads`, { title: 'One transaction' }, withKey(key));
    }
    expect(await threadIds()).toEqual([...before, first.body.id].sort());
    const record = await context.store.idempotency.find({
      organizationId: organization.organizationId,
      key,
      now: new Date().toISOString(),
    });
    // Found by this organisation and key: the record is theirs.
    expect(record).toMatchObject({ status_code: 200 });
    expect(record!.response_json).toBe(first.raw);
  });

  it('when the record cannot be written, the object written with it is rolled back', async () => {
    const key = newKey();
    const now = new Date();
    const claim = { organizationId: organization.organizationId, key, fingerprint: 'fingerprint', now };
    // A concurrent request (another process) recorded this key first.
    await context.store.write((writers) =>
      writers.idempotency.record({
        organization_id: organization.organizationId,
        key,
        fingerprint: 'the other request',
        status_code: 200,
        body: {},
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
      }),
    );
    const before = await threadIds();
    const threadId = crypto.randomUUID();
    const attempt = context.store.write(
      async (writers) => {
        const inserted = await writers.threads.insert({
          id: threadId,
          organization_id: organization.organizationId,
          agent_id: agentId,
          user_id: organization.userId,
          anon_user_id: null,
          title: 'Must roll back',
          metadata: {},
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
        });
        expect(inserted).toBeTruthy();
        return threadId;
      },
      { idempotency: claim },
    );
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toMatchObject({ code: 'idempotency_key_in_flight', status: 409 });
    expect(await threadIds()).toEqual(before);
    expect((await api.get(`/api/v1/chat/${agentId}/threads/${threadId}`)).status).toBe(404);
    const record = await context.store.idempotency.find({
      organizationId: organization.organizationId,
      key,
      now: now.toISOString(),
    });
    expect(record?.fingerprint).toBe('the other request');
  });

  it('when the work fails, no record is left behind', async () => {
    const key = newKey();
    const now = new Date();
    const attempt = context.store.write(
      async () => {
        throw new AppError('agent_not_found');
      },
      { idempotency: { organizationId: organization.organizationId, key, fingerprint: 'f', now } },
    );
    await expect(attempt).rejects.toMatchObject({ code: 'agent_not_found' });
    expect(
      await context.store.idempotency.find({
        organizationId: organization.organizationId,
        key,
        now: now.toISOString(),
      }),
    ).toBeNull();
  });
});

describe('without Idempotency-Key', () => {
  it('each request executes: two identical POSTs make two threads', async () => {
    const before = await threadIds();
    const first = await api.post(`/api/v1/chat/${agentId}/threads`, { title: 'No key' });
    const second = await api.post(`/api/v1/chat/${agentId}/threads`, { title: 'No key' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(await threadIds()).toEqual([...before, first.body.id, second.body.id].sort());
  });
});
