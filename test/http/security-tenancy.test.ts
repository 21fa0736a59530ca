import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import type { Api } from '../helpers/harness.js';
import {
  call,
  createObjects,
  dumpDatabase,
  expectedError,
  idParamsOf,
  needsRun,
  notFoundCode,
  operationSpecProblems,
  outcome,
  specOf,
  type IdParam,
  type Ids,
  type Objects,
  type Operation,
  createTwoOrganizations,
} from '../helpers/routes.js';

const SWEEP_TIMEOUT_MS = 120_000;

/**
 * T1/T2/T3 (reliability.md): cross-organisation object access. Every operation of the OpenAPI
 * document that takes an id (path or query) is called with org B's admin key and org A's ids.
 */

let context: TestContext;
let operations: Operation[];
let orgA: TestOrganization;
let orgB: TestOrganization;
let apiA: Api;
let apiB: Api;
let a: Objects;
let b: Objects;

beforeAll(async () => {
  context = await createTestContext();
  ({ operations, orgA, orgB, apiA, apiB, a, b } = await createTwoOrganizations(context));
});
afterAll(async () => {
  await context.close();
});

/** Org A's objects as A sees them through the API. */
async function snapshotOfA(): Promise<Record<string, unknown>> {
  const urls = [
    '/api/v1/agents',
    `/api/v1/agents/${a.agent_id}`,
    `/api/v1/chat/${a.agent_id}/threads`,
    `/api/v1/chat/${a.agent_id}/threads/${a.thread_id}`,
    `/api/v1/chat/${a.agent_id}/threads/${a.thread_id}/messages`,
    '/api/v1/api-keys',
    `/api/v1/api-keys/${a.key_id}`,
    '/api/v1/flows/executions',
    `/api/v1/flows/executions/${a.execution_id}`,
  ];
  const snapshot: Record<string, unknown> = {};
  for (const url of urls) {
    const response = await apiA.get(url);
    expect(response.status, `A: GET ${url}`).toBe(200);
    snapshot[url] = response.body;
  }
  return snapshot;
}

/** Every assignment of A's and B's ids to an operation's id parameters with at least one of A's. */
function crossOrgIdSets(operation: Operation): { label: string; ids: Ids; foreign: Set<IdParam> }[] {
  const params = idParamsOf(operation);
  const sets: { label: string; ids: Ids; foreign: Set<IdParam> }[] = [];
  for (let mask = 1; mask < 2 ** params.length; mask += 1) {
    const ids: Ids = { ...b };
    const foreign = new Set<IdParam>();
    const owners = params.map((name, index) => {
      const fromA = (mask & (1 << index)) !== 0;
      if (fromA) {
        ids[name] = a[name];
        foreign.add(name);
      }
      return `${name}=${fromA ? 'A' : 'B'}`;
    });
    sets.push({ label: `${operation.name} [${owners.join(', ')}]`, ids, foreign });
  }
  return sets;
}

/** Strings that identify org A's data: none may appear in anything B is shown. */
const secretsOfA = () => [
  orgA.organizationId,
  orgA.userId,
  orgA.keyId,
  a.agent_id,
  a.thread_id,
  a.message_id,
  a.key_id,
  a.run_id,
  'org-A',
];

describe('tenant isolation (BOLA)', () => {
  it('has a minimal request and an expected 404 for every operation of the OpenAPI document', () => {
    expect(operationSpecProblems(operations)).toEqual([]);
    // The matrix below must not silently shrink: these id routes exist today.
    expect(
      operations.filter((operation) => idParamsOf(operation).length > 0).map((operation) => operation.name),
    ).toEqual(
      expect.arrayContaining([
        'GET /api/v1/agents/{agent_id}',
        'PUT /api/v1/agents/{agent_id}',
        'DELETE /api/v1/agents/{agent_id}',
        'DELETE /api/v1/chat/clear-all-chats',
        'GET /api/v1/chat/{agent_id}/threads',
        'POST /api/v1/chat/{agent_id}/threads',
        'GET /api/v1/chat/{agent_id}/threads/{thread_id}',
        'PATCH /api/v1/chat/{agent_id}/threads/{thread_id}',
        'DELETE /api/v1/chat/{agent_id}/threads/{thread_id}',
        'GET /api/v1/chat/{agent_id}/threads/{thread_id}/messages',
        'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages',
        'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream',
        'GET /api/v1/chat/{agent_id}/threads/{thread_id}/stream',
        'POST /api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/cancel',
        'GET /api/v1/flows/executions',
        'GET /api/v1/flows/executions/{execution_id}',
        'GET /api/v1/api-keys/{key_id}',
        'DELETE /api/v1/api-keys/{key_id}',
      ]),
    );
  });

  it("answers 404 with the envelope to org B on every id route with org A's ids, and changes nothing", async () => {
    const before = await snapshotOfA();
    // A's thread holds the seeded message and the run's question and answer.
    expect((before[`/api/v1/chat/${a.agent_id}/threads/${a.thread_id}`] as any).messages).toHaveLength(3);
    const databaseBefore = await dumpDatabase(context);

    const actual: unknown[] = [];
    const expected: unknown[] = [];
    const covered = new Set<string>();
    for (const operation of operations.filter((candidate) => idParamsOf(candidate).length > 0)) {
      const spec = specOf(operation);
      for (const { label, ids, foreign } of crossOrgIdSets(operation)) {
        const bodies = spec.crossOrgBodies ? spec.crossOrgBodies(ids) : [undefined];
        for (const [index, body] of bodies.entries()) {
          const tried = bodies.length > 1 ? `${label} body ${index + 1}` : label;
          const response = await call(context, orgB.key, operation, ids, { body });
          covered.add(operation.name);
          if (spec.filter) {
            // A filter with A's ids: an answer, but an empty one.
            const leaked = secretsOfA().filter((secret) => response.raw.includes(secret));
            actual.push({ route: tried, status: response.status, leaked });
            expected.push({ route: tried, status: 200, leaked: [] });
            continue;
          }
          actual.push(outcome(tried, response));
          expected.push(expectedError(tried, response, 404, notFoundCode(operation, foreign)));
        }
        if (operation.method === 'GET' && !spec.filter) {
          // HEAD runs the GET handler: it must not tell B that A's object exists either.
          const head = await call(context, orgB.key, { ...operation, method: 'HEAD' }, ids);
          actual.push({ route: `HEAD ${label}`, status: head.status });
          expected.push({ route: `HEAD ${label}`, status: 404 });
        }
      }
    }
    expect([...covered].sort()).toEqual(
      operations
        .filter((operation) => idParamsOf(operation).length > 0)
        .map((operation) => operation.name)
        .sort(),
    );
    expect(actual).toEqual(expected);

    expect(await snapshotOfA()).toEqual(before);
    expect(await dumpDatabase(context)).toEqual(databaseBefore);
    // A's extra key was neither revoked nor changed.
    expect((await client(context, a.key).get('/api/v1/agents')).status).toBe(200);
  });

  it("never shows org A's rows in what org B lists or follows", async () => {
    const reads = operations.filter((operation) => operation.method === 'GET' && !operation.public);
    const leaks: string[] = [];
    for (const operation of reads) {
      const response = await call(context, orgB.key, operation, b);
      // B's own reads succeed (204: no run is active on B's thread to resume).
      expect(response.status, operation.name).toBe(specOf(operation).owner);
      for (const secret of secretsOfA()) if (response.raw.includes(secret)) leaks.push(`${operation.name}: ${secret}`);
    }
    expect(leaks).toEqual([]);

    // B does see its own rows: the lists above were not empty by accident.
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id).sort();
    expect(ids((await apiB.get('/api/v1/agents')).body)).toEqual([b.agent_id]);
    expect(ids((await apiB.get(`/api/v1/chat/${b.agent_id}/threads`)).body)).toEqual([b.thread_id]);
    const messages = (await apiB.get(`/api/v1/chat/${b.agent_id}/threads/${b.thread_id}/messages`)).body;
    expect(messages).toHaveLength(3);
    expect(messages[0].id).toBe(b.message_id);
    expect(ids((await apiB.get('/api/v1/api-keys')).body)).toEqual([orgB.keyId, b.key_id].sort());
    expect(ids((await apiB.get('/api/v1/flows/executions')).body.executions)).toEqual([b.run_id]);
  });

  // A sweep over every operation: its time grows with the machine (seen past 30 s on a slower host under load).
  it(
    'lets org A itself run every operation with the same requests (the ids and bodies are valid)',
    async () => {
      const actual: unknown[] = [];
      const expected: unknown[] = [];
      for (const operation of operations) {
        // Fresh objects for each call, so deletions cannot affect the next operation.
        const fresh = await createObjects(context, apiA, orgA.organizationId, 'control', { run: needsRun(operation) });
        const response = await call(context, orgA.key, operation, fresh);
        actual.push({ route: operation.name, status: response.status });
        expected.push({ route: operation.name, status: specOf(operation).owner });
      }
      expect(actual).toEqual(expected);
    },
    SWEEP_TIMEOUT_MS,
  );
});
