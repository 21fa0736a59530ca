import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { growingRegistry, type ScriptAction } from '../fixtures/scripted-model.js';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { SseConnection, frames, httpJson, threadPath, type ThreadRef } from '../helpers/sse-client.js';

/**
 * Credentials stay true for open connections (issue 7, M7): revoking or expiring a key ends its
 * open streams with an in-band `key_revoked` error, then the end — at once on the process that
 * revoked it, within the auth-cache lifetime on another process (or at expiry) — while the
 * streams of other keys go on.
 */

const models = growingRegistry('stream-revocation');
/** A reply that writes one delta, then waits until it is cancelled: nothing else reaches the streams meanwhile. */
const oneDeltaThenHang = (): string =>
  models.script([[{ type: 'text-delta', text: 'Working ' }, { type: 'hang' }] as ScriptAction[]]).id;

const KEY_REVOKED = {
  id: undefined,
  event: 'stream-error',
  data: { type: 'stream-error', code: 'key_revoked', detail: 'The API key of this stream was revoked or has expired.' },
};

async function createKey(thread: ThreadRef, body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const created = await httpJson(thread.base, thread.key, 'POST', '/api/v1/api-keys', body);
  expect(created.status).toBe(200);
  return { id: created.body.api_key.id, key: created.body.key };
}

function follow(base: string, thread: ThreadRef, key: string): Promise<SseConnection> {
  return SseConnection.open(`${base}${threadPath(thread)}/stream`, { key });
}

/** A message stored without a run, through `base`: two durable events on the thread. */
function postStoredMessage(thread: ThreadRef, content: string, base = thread.base) {
  return httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, { role: 'assistant', content });
}

describe('revoking a key through this process', () => {
  let context: TestContext;
  let base: string;
  beforeAll(async () => {
    // Keys are checked again only once a minute here: what ends the streams is the revocation itself.
    context = await createTestContext({ models: models.registry, authCacheTtlMs: 60_000 });
    base = await context.listen();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('ends every stream of the key at once with key_revoked; later events reach only other keys', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: oneDeltaThenHang() } });
    const revoked = await createKey(thread, { scopes: ['read', 'write'], name: 'to revoke' });
    const kept = await createKey(thread, { scopes: ['read'], name: 'kept' });
    const follower = await follow(base, thread, revoked.key);
    const other = await follow(base, thread, kept.key);
    const reply = await SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
      key: revoked.key,
      body: { role: 'user', content: 'Take your time.' },
    });
    expect([follower.status, other.status, reply.status]).toEqual([200, 200, 200]);
    for (const stream of [follower, other, reply]) await stream.readUntil((event) => event.id === '4.1');
    const runId = reply.received.find((event) => event.event === 'run-start')!.data.run_id as string;

    const revocation = await httpJson(base, thread.key, 'DELETE', `/api/v1/api-keys/${revoked.id}`);
    expect(revocation.status).toBe(200);
    expect(frames(await follower.readToEnd())).toEqual([KEY_REVOKED]);
    expect(frames(await reply.readToEnd())).toEqual([KEY_REVOKED]);
    expect(context.parley.sse.size).toBe(1);

    // The run goes on without the stream that started it; the other key's stream sees it end and what follows.
    const cancelled = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    // The cancel is answered once asked; the run writes its end when it stops. The stored message
    // comes after that end, so the order below is the run's, not a race with the cancel.
    const ended = await other.readUntil((event) => event.event === 'run-end');
    expect((await postStoredMessage(thread, 'Noted.')).status).toBe(200);
    const later = [...ended, ...(await other.readUntil((event) => event.id === '8'))];
    expect(later.map((event) => `${event.id} ${event.event}`)).toEqual([
      '5 message-end',
      '6 run-end',
      '7 message-start',
      '8 message-end',
    ]);
    expect(later[1]!.data.status).toBe('cancelled');
    expect(follower.received.some((event) => Number(event.id) >= 5)).toBe(false);
    other.abort();
    expect((await follow(base, thread, revoked.key)).status).toBe(401);
  });
});

describe('a key revoked elsewhere, or expired', () => {
  const AUTH_CACHE_TTL_MS = 200;
  let context: TestContext;
  let base: string;
  let clockOffsetMs = 0;
  beforeAll(async () => {
    context = await createTestContext({
      models: models.registry,
      authCacheTtlMs: AUTH_CACHE_TTL_MS,
      clock: { now: () => new Date(Date.now() + clockOffsetMs) },
    });
    base = await context.listen();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('ends the streams of a key revoked through another process within the auth-cache lifetime', async () => {
    const peer = await context.peer();
    const peerBase = await peer.listen();
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const revoked = await createKey(thread, { scopes: ['read'], name: 'to revoke' });
    const kept = await createKey(thread, { scopes: ['read'], name: 'kept' });
    const onPeer = await follow(peerBase, thread, revoked.key);
    const keptOnPeer = await follow(peerBase, thread, kept.key);
    expect([onPeer.status, keptOnPeer.status]).toEqual([200, 200]);
    expect(peer.parley.sse.size).toBe(2);

    // Revoked through this process; the peer learns it from the database when it checks its streams' keys.
    expect((await httpJson(base, thread.key, 'DELETE', `/api/v1/api-keys/${revoked.id}`)).status).toBe(200);
    expect(frames(await onPeer.readToEnd())).toEqual([KEY_REVOKED]);
    // The check refreshed the peer's cache too: the key is refused there at once.
    expect((await httpJson(peerBase, revoked.key, 'GET', threadPath(thread))).status).toBe(401);

    // Live events reach the followers of the process that wrote them (memory bus, no Redis here).
    expect((await postStoredMessage(thread, 'Still following?', peerBase)).status).toBe(200);
    const seen = await keptOnPeer.readUntil((event) => event.id === '2');
    expect(seen.map((event) => `${event.id} ${event.event}`)).toEqual(['1 message-start', '2 message-end']);
    keptOnPeer.abort();
    await peer.close();
  });

  it('ends the streams of a key once it has expired', async () => {
    const thread = await createThreadRef(context, { base, configuration: { model: 'demo' } });
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const expiring = await createKey(thread, { scopes: ['read'], name: 'expiring', expires_at: expiresAt });
    const lasting = await createKey(thread, { scopes: ['read'], name: 'lasting' });
    const ending = await follow(base, thread, expiring.key);
    const staying = await follow(base, thread, lasting.key);
    expect([ending.status, staying.status]).toEqual([200, 200]);
    try {
      clockOffsetMs = 2 * 3_600_000;
      expect(frames(await ending.readToEnd())).toEqual([KEY_REVOKED]);
      expect((await postStoredMessage(thread, 'An hour later.')).status).toBe(200);
      const seen = await staying.readUntil((event) => event.id === '2');
      expect(seen.map((event) => `${event.id} ${event.event}`)).toEqual(['1 message-start', '2 message-end']);
    } finally {
      clockOffsetMs = 0;
      staying.abort();
    }
  });
});
