import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findJsonProblem } from '../../src/http/json-body.js';
import {
  client,
  createTestContext,
  injectRequest,
  type Api,
  type Response,
  type TestContext,
} from '../helpers/harness.js';
import { UUID_PATTERN as UUID } from '../helpers/ids.js';

/**
 * Inputs are valid or refused, the same on both backends (issue 7, M3 and L3/L4): U+0000, lone
 * surrogates and non-finite numbers are refused with a 422 naming the field — in every body, path
 * and query parameter the OpenAPI document lists — and nothing changes. Before, PostgreSQL
 * answered 500 for U+0000 while SQLite stored it, and both stored `\ufffd` for a lone surrogate
 * and `null` for `1e999`.
 */

const NUL = { msg: 'String should not contain the NUL character (U+0000)', type: 'string_nul' };
const SURROGATE = {
  msg: 'Input should be a valid Unicode string: it contains a lone surrogate',
  type: 'string_unicode',
};
const NON_FINITE = { msg: 'Input should be a finite number', type: 'finite_number' };

interface Operation {
  method: string;
  path: string;
  pathParameters: string[];
  queryParameters: string[];
  hasBody: boolean;
}

let context: TestContext;
let api: Api;
let key: string;
let ids: Record<string, string>;
let operations: Operation[];

beforeAll(async () => {
  context = await createTestContext();
  const organization = await context.newOrganization();
  key = organization.key;
  api = client(context, key);
  const agent = await api.createAgent({ name: 'Kept', metadata: { keep: 'me' } });
  const thread = await api.createThread(agent.id, { title: 'Kept' });
  ids = {
    agent_id: agent.id,
    thread_id: thread.id,
    key_id: organization.keyId,
    run_id: '01a2237a-0000-7000-8000-000000000000',
    execution_id: '01a2237a-0000-7000-8000-000000000000',
  };
  operations = operationsOf((await api.get('/openapi.json')).body);
});
afterAll(() => context.close());

function operationsOf(document: {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
}): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      pathParameters: (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      queryParameters: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      hasBody: operation.requestBody !== undefined,
    })),
  );
}

function urlOf(operation: Operation, replaced: Record<string, string> = {}): string {
  return operation.path.replace(/\{([a-z_]+)\}/g, (_match, name: string) => replaced[name] ?? ids[name] ?? 'x');
}

/** Everything the organisation can see. */
async function stateOf(): Promise<unknown> {
  const read = async (url: string) => {
    const response = await api.get(url);
    expect(response.status).toBe(200);
    return response.body;
  };
  const base = `/api/v1/chat/${ids.agent_id}/threads`;
  return {
    agents: await read('/api/v1/agents?limit=100'),
    threads: await read(`${base}?limit=100`),
    messages: await read(`${base}/${ids.thread_id}/messages?limit=100`),
    keys: await read('/api/v1/api-keys?limit=100'),
  };
}

function expectRefused(response: Response, issue: { loc: (string | number)[]; msg: string; type: string }): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status: 422,
    body: { detail: [issue], code: 'validation_error', request_id: response.headers['x-request-id'] },
  });
  expect(response.headers['x-request-id']).toMatch(UUID);
}

describe('every documented input refuses what cannot be stored faithfully', () => {
  it('the document lists the operations this test walks', () => {
    expect(operations.filter((operation) => operation.pathParameters.length > 0).length).toBeGreaterThanOrEqual(12);
    expect(operations.filter((operation) => operation.hasBody).length).toBeGreaterThanOrEqual(6);
    expect(operations.filter((operation) => operation.queryParameters.length > 0).length).toBeGreaterThanOrEqual(4);
  });

  it('U+0000 in any path parameter → 422 naming it', async () => {
    const before = await stateOf();
    for (const operation of operations) {
      for (const name of operation.pathParameters) {
        const response = await api.request(operation.method, urlOf(operation, { [name]: 'a%00b' }), undefined);
        expectRefused(response, { loc: ['path', name], ...NUL });
      }
    }
    expect(await stateOf()).toEqual(before);
  });

  it('U+0000 in any query parameter → 422 naming it', async () => {
    for (const operation of operations) {
      for (const name of operation.queryParameters) {
        const url = `${urlOf(operation)}?${name}=a%00b`;
        const body = operation.hasBody ? {} : undefined;
        expectRefused(await api.request(operation.method, url, body), { loc: ['query', name], ...NUL });
      }
    }
  });

  it('U+0000, a lone surrogate or a non-finite number anywhere in any body → 422 at its location', async () => {
    const before = await stateOf();
    const cases: [string, (string | number)[], { msg: string; type: string }][] = [
      ['{"title":"a\\u0000b"}', ['body', 'title'], NUL],
      ['{"title":"a\\ud800b"}', ['body', 'title'], SURROGATE],
      ['{"title":"a\\udfffb"}', ['body', 'title'], SURROGATE],
      ['{"name":"ok","metadata":{"n":1e999}}', ['body', 'metadata', 'n'], NON_FINITE],
      ['{"temperature":-1e400}', ['body', 'temperature'], NON_FINITE],
      [`{"n":${'9'.repeat(400)}}`, ['body', 'n'], NON_FINITE],
      ['{"metadata":{"k\\u0000":1}}', ['body', 'metadata', 'k\u0000'], NUL],
      [
        '{"configuration":{"tools":[{"a":"ok"},{"b":["x","\\ud83d"]}]}}',
        ['body', 'configuration', 'tools', 1, 'b', 1],
        SURROGATE,
      ],
    ];
    for (const operation of operations.filter((candidate) => candidate.hasBody)) {
      for (const [body, loc, issue] of cases) {
        expectRefused(await api.request(operation.method, urlOf(operation), body), { loc, ...issue });
      }
    }
    expect(await stateOf()).toEqual(before);
  });

  it('a body that is not UTF-8 → 422 json_invalid, instead of U+FFFD stored', async () => {
    const before = await stateOf();
    for (const bad of [[0xed, 0xa0, 0x80], [0xff], [0xc3]]) {
      const payload = Buffer.concat([Buffer.from('{"title":"'), Buffer.from(bad), Buffer.from('"}')]);
      const response = await injectRequest(context, {
        method: 'PATCH',
        url: `/api/v1/chat/${ids.agent_id}/threads/${ids.thread_id}`,
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: payload,
      });
      expectRefused(response, {
        loc: ['body'],
        msg: 'JSON decode error: the body is not valid UTF-8',
        type: 'json_invalid',
      });
    }
    expect(await stateOf()).toEqual(before);
  });

  it('well-formed text round-trips exactly: astral characters, U+FFFD itself, large finite numbers', async () => {
    const title = 'a😀b\ufffdc\u0001';
    const metadata = { big: 1.7976931348623157e308, tiny: -5e-324, pair: '\ud83d\ude00' };
    const response = await api.patch(`/api/v1/chat/${ids.agent_id}/threads/${ids.thread_id}`, { title, metadata });
    expect(response.status).toBe(200);
    const read = await api.get(`/api/v1/chat/${ids.agent_id}/threads/${ids.thread_id}`);
    expect({ title: read.body.title, metadata: read.body.metadata }).toEqual({ title, metadata });
  });
});

describe('every number an operation takes is bounded', () => {
  /** Paths (in the document) of integer and number schemas with no maximum, following `$ref`s. */
  function unbounded(
    schema: unknown,
    at: string,
    components: Record<string, unknown>,
    found: string[] = [],
    seen = new Set<string>(),
  ): string[] {
    if (typeof schema !== 'object' || schema === null) return found;
    const node = schema as Record<string, unknown>;
    if (typeof node.$ref === 'string' && !seen.has(node.$ref)) {
      seen.add(node.$ref);
      const name = node.$ref.replace('#/components/schemas/', '');
      unbounded(components[name], `${at} → ${name}`, components, found, seen);
    }
    const type = node.type;
    const numeric =
      type === 'integer' ||
      type === 'number' ||
      (Array.isArray(type) && type.some((t) => t === 'integer' || t === 'number'));
    if (numeric) numbers.push(at);
    if (numeric && node.maximum === undefined && node.exclusiveMaximum === undefined) found.push(at);
    for (const [key, child] of Object.entries(node)) unbounded(child, `${at}/${key}`, components, found, seen);
    return found;
  }
  const numbers: string[] = [];

  it('query, path and body numbers in the OpenAPI document all have a maximum (422 beyond)', async () => {
    const document = (await api.get('/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    const { schemas } = document.components;
    const found: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        unbounded(operation.parameters ?? [], `${method} ${path} parameters`, schemas, found);
        unbounded(operation.requestBody ?? {}, `${method} ${path} body`, schemas, found);
      }
    }
    expect(found).toEqual([]);
    // The walk reaches the numbers: limit, offset, page, page_size. (Numbers inside an agent's
    // free-form `configuration` are read by the runtime, which clamps them: max_steps ≤ 25.)
    expect(numbers.filter((at) => at.includes('parameters')).length).toBeGreaterThanOrEqual(4);
  });
});

describe('findJsonProblem', () => {
  it('reports the first problem in document order', () => {
    expect(findJsonProblem({ a: ['ok', 'x\u0000'], b: Infinity })).toEqual({ loc: ['body', 'a', 1], ...NUL });
    expect(findJsonProblem({ a: 1, b: { c: NaN } })).toEqual({ loc: ['body', 'b', 'c'], ...NON_FINITE });
    expect(findJsonProblem({ a: [1, { b: 'fine' }], c: null, d: true })).toBeNull();
  });

  it('walks any depth without recursion, refusing more than 200 levels', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 100_000; level++) deep = [deep];
    expect(findJsonProblem(deep)).toEqual({
      loc: ['body'],
      msg: 'JSON should nest at most 200 levels deep',
      type: 'json_invalid',
    });
  });
});
