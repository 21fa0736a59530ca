import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/storage/store.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { insertMcpServer, runSql } from '../helpers/mcp-oauth.js';

/**
 * The compare-and-set statements of the MCP OAuth store on the real dialect (SQLite, or PostgreSQL
 * under test:pg), with two connections standing for two processes.
 */
let context: TestContext;
let other: Store;

beforeAll(async () => {
  context = await createTestContext();
  other = await openStore(context.database.target);
});

afterAll(async () => {
  await other?.close();
  await context?.close();
});

async function server(): Promise<{ organizationId: string; serverId: string }> {
  const organization = await context.newOrganization();
  const agent = await client(context, organization.key).createAgent({ name: 'store agent' });
  const serverId = await insertMcpServer(context.database.target, {
    organizationId: organization.organizationId,
    agentId: agent.id,
    url: 'https://mcp.example.com/mcp',
  });
  return { organizationId: organization.organizationId, serverId };
}

const T0 = '2026-12-01T10:00:00.000Z';
const T1 = '2026-12-01T10:00:30.000Z';
const T2 = '2026-12-01T10:01:00.000Z';

describe('MCP OAuth store', () => {
  it('gives a refresh lease to exactly one claimant per token version, and again once it expires', async () => {
    const key = await server();
    expect(
      await context.store.write((w) =>
        w.mcpOAuth.saveClient({ ...key, clientInformation: 'psb1.c', discovery: '{}', now: T0 }),
      ),
    ).toBe(true);
    expect(await context.store.write((w) => w.mcpOAuth.saveTokens({ ...key, tokens: 'psb1.t', now: T0 }))).toBe(true);
    const version = (await context.store.mcpOAuth.credentials(key))!.tokenVersion;
    expect(version).toBe(1);
    const claim = (store: Store, owner: string, now: string) =>
      store.write((w) => w.mcpOAuth.claimRefresh({ ...key, owner, version, now, until: T1 }));
    const claims = await Promise.all([claim(context.store, 'a', T0), claim(other, 'b', T0)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    // Still held: nobody else gets it; expired: someone else does.
    expect(await claim(other, 'c', T0)).toBe(false);
    expect(await claim(other, 'c', T2)).toBe(true);
    // The refresh of version 1 is stored once, whoever stores it: the version moves on.
    expect(await other.write((w) => w.mcpOAuth.completeRefresh({ ...key, version, tokens: 'psb1.t2', now: T2 }))).toBe(
      true,
    );
    expect(
      await context.store.write((w) => w.mcpOAuth.completeRefresh({ ...key, version, tokens: 'psb1.t3', now: T2 })),
    ).toBe(false);
    const row = (await context.store.mcpOAuth.credentials(key))!;
    expect(row).toMatchObject({ tokens: 'psb1.t2', tokenVersion: 2, refreshLeaseOwner: null, refreshLeaseUntil: null });
    expect(await claim(context.store, 'a', T2)).toBe(false);
  });

  it('writes nothing for a server of another organisation', async () => {
    const mine = await server();
    const theirs = await server();
    const foreign = { organizationId: mine.organizationId, serverId: theirs.serverId };
    expect(
      await context.store.write((w) =>
        w.mcpOAuth.saveClient({ ...foreign, clientInformation: 'psb1.c', discovery: '{}', now: T0 }),
      ),
    ).toBe(false);
    expect(
      await context.store.write((w) =>
        w.mcpOAuth.insertState({
          stateHash: 'h-foreign',
          ...foreign,
          codeVerifier: 'psb1.v',
          redirectUri: 'http://127.0.0.1:8080/api/v1/mcp/oauth/callback',
          scope: null,
          expectedIssuer: null,
          createdAt: T0,
          expiresAt: T2,
        }),
      ),
    ).toBe(false);
    expect(
      await runSql(context.database.target, 'select * from mcp_oauth_credentials where mcp_server_id = ?', [
        theirs.serverId,
      ]),
    ).toEqual([]);
    expect(
      await runSql(context.database.target, 'select * from mcp_oauth_states where mcp_server_id = ?', [
        theirs.serverId,
      ]),
    ).toEqual([]);
  });

  it('consumes a state once, only before it expires', async () => {
    const key = await server();
    const state = {
      ...key,
      codeVerifier: 'psb1.v',
      redirectUri: 'http://127.0.0.1:8080/api/v1/mcp/oauth/callback',
      scope: 'mcp:tools',
      expectedIssuer: 'https://auth.example.com',
      createdAt: T0,
      expiresAt: T1,
    };
    await context.store.write((w) => w.mcpOAuth.insertState({ ...state, stateHash: 'h-once' }));
    await context.store.write((w) => w.mcpOAuth.insertState({ ...state, stateHash: 'h-late' }));
    const consume = (store: Store, hash: string, now: string) => store.write((w) => w.mcpOAuth.consumeState(hash, now));
    const both = await Promise.all([consume(context.store, 'h-once', T0), consume(other, 'h-once', T0)]);
    expect(both.filter((consumed) => consumed !== null)).toHaveLength(1);
    expect(both.find((consumed) => consumed !== null)).toMatchObject({ ...state, stateHash: 'h-once', usedAt: T0 });
    expect(await context.store.mcpOAuth.stateRefusal('h-once', T0)).toBe('used');
    expect(await consume(context.store, 'h-late', T2)).toBeNull();
    expect(await context.store.mcpOAuth.stateRefusal('h-late', T2)).toBe('expired');
    expect(await context.store.mcpOAuth.stateRefusal('h-never', T0)).toBe('unknown');
  });
});
