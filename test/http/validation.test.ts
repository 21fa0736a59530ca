import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import type { Api, Response } from '../helpers/harness.js';
import { BLANK_TEMPLATE, SUPPORT_TEMPLATE, UUID_PATTERN as UUID } from '../helpers/ids.js';

const SWEEP_TIMEOUT_MS = 120_000;

/**
 * Malformed input (T12, T14) gets 422 in FastAPI's shape with the exact `loc`, or the matching
 * 4xx, never a 5xx — and changes nothing. Server-owned fields in bodies are ignored (T10).
 */

interface Issue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

const MISSING_AGENT = '01a2237a-0000-7000-8000-000000000000';
const BAD_UUIDS = [
  'not-a-uuid',
  '123',
  '01a2237a-ebe0-7667-9d3c-d40bf5ab2e9',
  '01a2237a-ebe0-7667-9d3c-d40bf5ab2e98a',
  'g1a2237a-ebe0-7667-9d3c-d40bf5ab2e98',
];

function expectValidation(response: Response, detail: Issue[]): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status: 422,
    body: { detail, code: 'validation_error', request_id: response.headers['x-request-id'] },
  });
  expect(response.headers['x-request-id']).toMatch(UUID);
}

function expectError(response: Response, status: number, code: string, detail: string): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status,
    body: { detail, code, request_id: response.headers['x-request-id'] },
  });
}

const uuidIssue = (loc: (string | number)[]): Issue => ({
  loc,
  msg: 'Input should be a valid UUID',
  type: 'uuid_parsing',
});
const missing = (loc: (string | number)[]): Issue => ({ loc, msg: 'Field required', type: 'missing' });

let context: TestContext;
let organization: TestOrganization;
let api: Api;
let agentId: string;
let threadId: string;

/** Everything the organisation can see: its agents, and every thread of each agent. */
async function stateOf(caller: Api = api): Promise<unknown> {
  const agents = await caller.get('/api/v1/agents?limit=100');
  expect(agents.status).toBe(200);
  const threads: Record<string, unknown> = {};
  for (const agent of agents.body as { id: string }[]) {
    const listed = await caller.get(`/api/v1/chat/${agent.id}/threads?limit=100`);
    expect(listed.status).toBe(200);
    threads[agent.id] = listed.body;
  }
  return { agents: agents.body, threads };
}

/** Runs `send` and checks the organisation's state is the same before and after. */
async function unchanged(send: () => Promise<Response>): Promise<Response> {
  const before = await stateOf();
  const response = await send();
  expect(await stateOf()).toEqual(before);
  return response;
}

beforeAll(async () => {
  context = await createTestContext();
  organization = await context.newOrganization();
  api = client(context, organization.key);
  agentId = (await api.createAgent({ name: 'Validation target', metadata: { keep: 'me' } })).id;
  threadId = (await api.createThread(agentId, { title: 'Keep me', metadata: { keep: 'me' } })).id;
});
afterAll(async () => {
  await context.close();
});

describe('path ids', () => {
  /** Every operation of the app's OpenAPI document with a UUID path parameter, and those parameters. */
  async function operationsWithUuidParams(): Promise<
    { method: string; path: string; params: string[]; hasBody: boolean }[]
  > {
    const spec = await context.parley.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(spec.statusCode).toBe(200);
    const operations = [];
    for (const [path, item] of Object.entries<Record<string, any>>(JSON.parse(spec.body).paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        const params = ((operation.parameters ?? []) as { in: string; name: string; schema?: { format?: string } }[])
          .filter((parameter) => parameter.in === 'path' && parameter.schema?.format === 'uuid')
          .map((parameter) => parameter.name);
        if (params.length > 0) {
          operations.push({ method: method.toUpperCase(), path, params, hasBody: operation.requestBody !== undefined });
        }
      }
    }
    return operations;
  }

  // A sweep over every operation: its time grows with the machine (seen past 30 s on a slower host under load).
  it(
    'every operation with a UUID in its path answers a bad one with 422 at ["path",<name>] and changes nothing',
    async () => {
      const operations = await operationsWithUuidParams();
      // The agent and chat routes this suite was written for must be among them.
      expect(operations.map((operation) => `${operation.method} ${operation.path}`)).toEqual(
        expect.arrayContaining([
          'GET /api/v1/agents/{agent_id}',
          'PUT /api/v1/agents/{agent_id}',
          'DELETE /api/v1/agents/{agent_id}',
          'GET /api/v1/chat/{agent_id}/threads',
          'POST /api/v1/chat/{agent_id}/threads',
          'GET /api/v1/chat/{agent_id}/threads/{thread_id}',
          'PATCH /api/v1/chat/{agent_id}/threads/{thread_id}',
          'DELETE /api/v1/chat/{agent_id}/threads/{thread_id}',
          'GET /api/v1/chat/{agent_id}/threads/{thread_id}/messages',
          'GET /api/v1/api-keys/{key_id}',
          'DELETE /api/v1/api-keys/{key_id}',
        ]),
      );
      const valid: Record<string, string> = { agent_id: agentId, thread_id: threadId, key_id: organization.keyId };
      for (const operation of operations) {
        for (const param of operation.params) {
          for (const bad of BAD_UUIDS) {
            const url = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
              name === param ? bad : (valid[name] ?? MISSING_AGENT),
            );
            // Path parameters are checked before the body, so an empty object will do for any body.
            const response = await unchanged(() =>
              api.request(operation.method, url, operation.hasBody ? {} : undefined),
            );
            expect(
              { status: response.status, detail: response.body?.detail },
              `${operation.method} ${operation.path} with ${param}=${bad}`,
            ).toEqual({ status: 422, detail: [uuidIssue(['path', param])] });
            expect(response.body.code).toBe('validation_error');
          }
        }
      }
    },
    SWEEP_TIMEOUT_MS,
  );

  it('reports every bad path id at once', async () => {
    const response = await api.delete('/api/v1/chat/x/threads/y');
    expectValidation(response, [uuidIssue(['path', 'agent_id']), uuidIssue(['path', 'thread_id'])]);
  });

  it('DELETE /api/v1/chat/clear-all-chats: a bad or absent agent_id → 422 at ["query","agent_id"]', async () => {
    expectValidation(await unchanged(() => api.delete('/api/v1/chat/clear-all-chats?agent_id=not-a-uuid')), [
      uuidIssue(['query', 'agent_id']),
    ]);
    expectValidation(await unchanged(() => api.delete('/api/v1/chat/clear-all-chats')), [
      missing(['query', 'agent_id']),
    ]);
  });

  it('the key used for these requests still works: nothing was revoked', async () => {
    const key = await api.get(`/api/v1/api-keys/${organization.keyId}`);
    expect(key.status).toBe(200);
    expect(key.body.revoked_at).toBeNull();
  });
});

describe('body types and required fields', () => {
  const threads = () => `/api/v1/chat/${agentId}/threads`;
  const agentBody = { name: 'Agent', configuration: {}, template_id: SUPPORT_TEMPLATE };

  it.each([
    [
      'title: 5',
      { title: 5 },
      [{ loc: ['body', 'title'], msg: 'Input should be a valid string', type: 'string_type' }],
    ],
    [
      'metadata: "x"',
      { title: 'A', metadata: 'x' },
      [{ loc: ['body', 'metadata'], msg: 'Input should be a valid dictionary or object', type: 'dict_type' }],
    ],
    [
      'metadata: []',
      { title: 'A', metadata: [] },
      [{ loc: ['body', 'metadata'], msg: 'Input should be a valid dictionary or object', type: 'dict_type' }],
    ],
    ['no title', { metadata: {} }, [missing(['body', 'title'])]],
    [
      'agent_id: 5',
      { title: 'A', agent_id: 5 },
      [{ loc: ['body', 'agent_id'], msg: 'Input should be a valid string', type: 'string_type' }],
    ],
    ['agent_id not a UUID', { title: 'A', agent_id: 'nope' }, [uuidIssue(['body', 'agent_id'])]],
    [
      'title of 256 characters',
      { title: 't'.repeat(256) },
      [{ loc: ['body', 'title'], msg: 'String should have at most 255 characters', type: 'string_too_long' }],
    ],
  ])('thread create with %s → 422, nothing created', async (_, body, detail) => {
    expectValidation(await unchanged(() => api.post(threads(), body)), detail as Issue[]);
  });

  it.each([
    [
      'configuration: []',
      { ...agentBody, configuration: [] },
      [{ loc: ['body', 'configuration'], msg: 'Input should be a valid dictionary or object', type: 'dict_type' }],
    ],
    [
      'name: 1',
      { ...agentBody, name: 1 },
      [{ loc: ['body', 'name'], msg: 'Input should be a valid string', type: 'string_type' }],
    ],
    [
      'name: ""',
      { ...agentBody, name: '' },
      [{ loc: ['body', 'name'], msg: 'String should have at least 1 characters', type: 'string_too_short' }],
    ],
    ['no name', { configuration: {}, template_id: SUPPORT_TEMPLATE }, [missing(['body', 'name'])]],
    ['no configuration', { name: 'Agent', template_id: SUPPORT_TEMPLATE }, [missing(['body', 'configuration'])]],
    ['no template_id', { name: 'Agent', configuration: {} }, [missing(['body', 'template_id'])]],
    [
      'an empty object',
      {},
      [missing(['body', 'name']), missing(['body', 'configuration']), missing(['body', 'template_id'])],
    ],
    ['template_id not a UUID', { ...agentBody, template_id: 'support' }, [uuidIssue(['body', 'template_id'])]],
    [
      'an unknown template_id',
      { ...agentBody, template_id: MISSING_AGENT },
      [
        {
          loc: ['body', 'template_id'],
          msg: 'Unknown template: see GET /api/v1/templates',
          type: 'template_not_found',
        },
      ],
    ],
    [
      'status: "zombie"',
      { ...agentBody, status: 'zombie' },
      [
        {
          loc: ['body', 'status'],
          msg: "Input should be 'active', 'inactive', 'draft' or 'archived'",
          type: 'literal_error',
        },
      ],
    ],
    [
      'team_id: "x"',
      { ...agentBody, team_id: 'x' },
      [{ loc: ['body', 'team_id'], msg: 'Input should be a valid list', type: 'list_type' }],
    ],
  ])('agent create with %s → 422, nothing created', async (_, body, detail) => {
    expectValidation(await unchanged(() => api.post('/api/v1/agents', body)), detail as Issue[]);
  });

  it.each([
    [
      'status: "zombie"',
      { status: 'zombie' },
      [
        {
          loc: ['body', 'status'],
          msg: "Input should be 'active', 'inactive', 'draft' or 'archived'",
          type: 'literal_error',
        },
      ],
    ],
    [
      'status: 1',
      { status: 1 },
      [
        { loc: ['body', 'status'], msg: 'Input should be a valid string', type: 'string_type' },
        {
          loc: ['body', 'status'],
          msg: "Input should be 'active', 'inactive', 'draft' or 'archived'",
          type: 'literal_error',
        },
      ],
    ],
    [
      'name: null',
      { name: null },
      [{ loc: ['body', 'name'], msg: 'Input should be a valid string', type: 'string_type' }],
    ],
    [
      'name: 1 and configuration: []',
      { name: 1, configuration: [] },
      [
        { loc: ['body', 'name'], msg: 'Input should be a valid string', type: 'string_type' },
        { loc: ['body', 'configuration'], msg: 'Input should be a valid dictionary or object', type: 'dict_type' },
      ],
    ],
    [
      'a valid name but metadata: "x"',
      { name: 'Half applied?', metadata: 'x' },
      [{ loc: ['body', 'metadata'], msg: 'Input should be a valid dictionary or object', type: 'dict_type' }],
    ],
  ])('PUT agent with %s → 422, the agent is unchanged', async (_, body, detail) => {
    expectValidation(await unchanged(() => api.put(`/api/v1/agents/${agentId}`, body)), detail as Issue[]);
  });

  it('PATCH thread with title: 5 → 422, the thread is unchanged', async () => {
    expectValidation(await unchanged(() => api.patch(`/api/v1/chat/${agentId}/threads/${threadId}`, { title: 5 })), [
      { loc: ['body', 'title'], msg: 'Input should be a valid string', type: 'string_type' },
    ]);
  });

  it('a body agent_id that differs from the path → 422 at ["body","agent_id"], no thread under either agent', async () => {
    const other = await api.createAgent({ name: 'Other agent' });
    const detail = [
      {
        loc: ['body', 'agent_id'],
        msg: 'agent_id in the body must match the agent_id in the path',
        type: 'value_error',
      },
    ];
    expectValidation(await unchanged(() => api.post(threads(), { agent_id: other.id, title: 'Mismatch' })), detail);
    expectValidation(
      await unchanged(() => api.post(threads(), { agent_id: MISSING_AGENT, title: 'Mismatch' })),
      detail,
    );
    // The same id in another case is the same agent.
    const sameInUpperCase = await api.post(threads(), { agent_id: agentId.toUpperCase(), title: 'Upper' });
    expect(sameInUpperCase.status).toBe(200);
    expect(sameInUpperCase.body.agent_id).toBe(agentId);
    expect(await api.delete(`/api/v1/chat/${agentId}/threads/${sameInUpperCase.body.id}`)).toMatchObject({
      status: 204,
    });
    const deleted = await api.request('DELETE', `/api/v1/agents/${other.id}`);
    expect(deleted.status).toBe(204);
  });
});

describe('metadata limits', () => {
  const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`key${index}`, index]));
  const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`key${index}`, index]));
  const longKey = 'k'.repeat(65);
  // {"a":"…"} is 8 characters of JSON around the text.
  const nestedOf = (jsonLength: number) => ({ a: 'v'.repeat(jsonLength - 8) });

  const cases: [string, Record<string, unknown>, Issue[]][] = [
    [
      '17 keys',
      seventeen,
      [{ loc: ['body', 'metadata'], msg: 'Object should have at most 16 keys', type: 'too_long' }],
    ],
    [
      'a 65-character key',
      { [longKey]: 'value' },
      [{ loc: ['body', 'metadata', longKey], msg: 'Key should have at most 64 characters', type: 'string_too_long' }],
    ],
    [
      'a 513-character string value',
      { note: 'n'.repeat(513) },
      [{ loc: ['body', 'metadata', 'note'], msg: 'Value should have at most 512 characters', type: 'string_too_long' }],
    ],
    [
      'a nested value whose JSON is 513 characters',
      { fine: 'x', nested: nestedOf(513) },
      [
        {
          loc: ['body', 'metadata', 'nested'],
          msg: 'Value should have at most 512 characters',
          type: 'string_too_long',
        },
      ],
    ],
    [
      'an array value whose JSON is 513 characters',
      { list: Array.from({ length: 128 }, () => 100) },
      [{ loc: ['body', 'metadata', 'list'], msg: 'Value should have at most 512 characters', type: 'string_too_long' }],
    ],
  ];

  it('the array case really is 513 characters of JSON', () => {
    expect(JSON.stringify(Array.from({ length: 128 }, () => 100))).toHaveLength(513);
    expect(JSON.stringify(nestedOf(513))).toHaveLength(513);
  });

  for (const [label, metadata, detail] of cases) {
    it(`${label} → 422 on every route that takes metadata, nothing changes`, async () => {
      const sends = [
        () => api.post(`/api/v1/chat/${agentId}/threads`, { title: 'Too much metadata', metadata }),
        () => api.patch(`/api/v1/chat/${agentId}/threads/${threadId}`, { metadata }),
        () =>
          api.post('/api/v1/agents', {
            name: 'Too much metadata',
            configuration: {},
            template_id: SUPPORT_TEMPLATE,
            metadata,
          }),
        () => api.put(`/api/v1/agents/${agentId}`, { metadata }),
      ];
      for (const send of sends) expectValidation(await unchanged(send), detail);
    });
  }

  it('reports every metadata problem at once', async () => {
    const response = await unchanged(() =>
      api.post(`/api/v1/chat/${agentId}/threads`, { title: 'x', metadata: { [longKey]: 1, note: 'n'.repeat(513) } }),
    );
    expect(response.status).toBe(422);
    expect(new Set(response.body.detail.map((issue: Issue) => JSON.stringify(issue.loc)))).toEqual(
      new Set([JSON.stringify(['body', 'metadata', longKey]), JSON.stringify(['body', 'metadata', 'note'])]),
    );
  });

  it('accepts exactly 16 keys, a 64-character key, a 512-character value and 512 characters of nested JSON, and stores them as sent', async () => {
    const accepted = [
      sixteen,
      { ['k'.repeat(64)]: 'value' },
      { note: 'n'.repeat(512) },
      { nested: nestedOf(512), list: Array.from({ length: 127 }, () => 100) },
      { unicode: 'é'.repeat(512) },
    ];
    expect(JSON.stringify(Array.from({ length: 127 }, () => 100)).length).toBeLessThanOrEqual(512);
    for (const metadata of accepted) {
      const created = await api.post(`/api/v1/chat/${agentId}/threads`, { title: 'Limits', metadata });
      expect(created.status).toBe(200);
      expect(created.body.metadata).toEqual(metadata);
      const stored = await api.get(`/api/v1/chat/${agentId}/threads/${created.body.id}`);
      expect(stored.body.metadata).toEqual(metadata);
      expect((await api.delete(`/api/v1/chat/${agentId}/threads/${created.body.id}`)).status).toBe(204);

      const agent = await api.post('/api/v1/agents', {
        name: 'Limits',
        configuration: {},
        template_id: BLANK_TEMPLATE,
        metadata,
      });
      expect(agent.status).toBe(200);
      expect((await api.get(`/api/v1/agents/${agent.body.id}`)).body.metadata).toEqual(metadata);
      expect((await api.delete(`/api/v1/agents/${agent.body.id}`)).status).toBe(204);
    }
  });
});

describe('query parameters', () => {
  const lists = () => [
    `/api/v1/chat/${agentId}/threads`,
    `/api/v1/chat/${agentId}/threads/${threadId}/messages`,
    '/api/v1/agents',
  ];

  it.each([
    [
      'limit=0',
      [{ loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal' }],
    ],
    [
      'limit=101',
      [{ loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', type: 'less_than_equal' }],
    ],
    ['limit=abc', [{ loc: ['query', 'limit'], msg: 'Input should be a valid integer', type: 'int_type' }]],
    ['limit=1.5', [{ loc: ['query', 'limit'], msg: 'Input should be a valid integer', type: 'int_type' }]],
    ['limit=', [{ loc: ['query', 'limit'], msg: 'Input should be a valid integer', type: 'int_type' }]],
    [
      'offset=-1',
      [{ loc: ['query', 'offset'], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal' }],
    ],
    ['offset=x', [{ loc: ['query', 'offset'], msg: 'Input should be a valid integer', type: 'int_type' }]],
    [
      'limit=0&offset=-1',
      [
        { loc: ['query', 'limit'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal' },
        { loc: ['query', 'offset'], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal' },
      ],
    ],
  ])('%s → 422 at ["query",…] on every list', async (query, detail) => {
    for (const url of lists()) expectValidation(await api.get(`${url}?${query}`), detail as Issue[]);
  });

  it('limit=100, limit=1 and offset=0 are accepted', async () => {
    for (const url of lists()) {
      for (const query of ['limit=100', 'limit=1', 'offset=0', 'limit=100&offset=0']) {
        const response = await api.get(`${url}?${query}`);
        expect(response.status, `${url}?${query}`).toBe(200);
        expect(Array.isArray(response.body)).toBe(true);
      }
    }
  });

  it('a bad boolean → 422 bool_type', async () => {
    expectValidation(await api.get(`/api/v1/chat/${agentId}/threads?include_messages=maybe`), [
      { loc: ['query', 'include_messages'], msg: 'Input should be a valid boolean', type: 'bool_type' },
    ]);
  });
});

describe('malformed bodies', () => {
  const url = () => `/api/v1/chat/${agentId}/threads`;
  const raw = (body: string, headers: Record<string, string> = {}) =>
    api.request('POST', url(), body, { 'content-type': 'application/json', ...headers });
  const jsonInvalid = [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }];
  const tooDeep = [{ loc: ['body'], msg: 'JSON should nest at most 200 levels deep', type: 'json_invalid' }];

  it('invalid JSON → 422 json_invalid', async () => {
    for (const body of [
      '{"title":',
      '{title: "x"}',
      "{'title':'x'}",
      '{"title":"x",}',
      'nul',
      '{"title":"x"} trailing',
    ]) {
      expectValidation(await unchanged(() => raw(body)), jsonInvalid);
    }
  });

  it('an empty body, a `null` body or no body at all → 422 missing at ["body"]', async () => {
    expectValidation(await unchanged(() => raw('')), [missing(['body'])]);
    expectValidation(await unchanged(() => raw('null')), [missing(['body'])]);
    expectValidation(await unchanged(() => api.request('POST', url())), [missing(['body'])]);
    expectValidation(await unchanged(() => api.request('PUT', `/api/v1/agents/${agentId}`, 'null')), [
      missing(['body']),
    ]);
  });

  it('a JSON array, string or number as the body → 422 dict_type at ["body"]', async () => {
    const detail = [{ loc: ['body'], msg: 'Input should be a valid dictionary or object', type: 'dict_type' }];
    for (const body of ['[]', '[{"title":"x"}]', '"title"', '5', 'true']) {
      expectValidation(await unchanged(() => raw(body)), detail);
    }
    expectValidation(await unchanged(() => api.request('PUT', `/api/v1/agents/${agentId}`, '[]')), detail);
  });

  it('JSON nested 10 000 deep → 422, in metadata, in configuration and in an ignored field', async () => {
    const arrays = '['.repeat(10_000) + ']'.repeat(10_000);
    const objects = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    for (const deep of [arrays, objects]) {
      expectValidation(await unchanged(() => raw(`{"title":"x","metadata":{"deep":${deep}}}`)), tooDeep);
      expectValidation(await unchanged(() => raw(`{"title":"x","ignored":${deep}}`)), tooDeep);
      expectValidation(
        await unchanged(() =>
          api.request(
            'POST',
            '/api/v1/agents',
            `{"name":"x","template_id":"${SUPPORT_TEMPLATE}","configuration":{"deep":${deep}}}`,
          ),
        ),
        tooDeep,
      );
      expectValidation(
        await unchanged(() => api.request('PUT', `/api/v1/agents/${agentId}`, `{"configuration":${deep}}`)),
        tooDeep,
      );
    }
  });

  it('nesting: 200 levels are accepted, 201 are not', async () => {
    // The body is level 1 and configuration level 2, so 198 arrays inside make 200 levels.
    const nested = (arrays: number) =>
      `{"name":"Deep","template_id":"${BLANK_TEMPLATE}","configuration":{"deep":${'['.repeat(arrays)}${']'.repeat(arrays)}}}`;
    const accepted = await api.request('POST', '/api/v1/agents', nested(198));
    expect(accepted.status).toBe(200);
    expect(JSON.stringify(accepted.body.configuration.deep)).toBe('['.repeat(198) + ']'.repeat(198));
    expect((await api.delete(`/api/v1/agents/${accepted.body.id}`)).status).toBe(204);
    expectValidation(await unchanged(() => api.request('POST', '/api/v1/agents', nested(199))), tooDeep);
  });

  it('prototype pollution attempts → 422 json_invalid, and nothing is polluted', async () => {
    for (const body of [
      '{"__proto__":{"x":1}}',
      '{"title":"x","__proto__":{"polluted":true}}',
      '{"title":"x","metadata":{"__proto__":{"polluted":true}}}',
      '{"title":"x","constructor":{"prototype":{"polluted":true}}}',
    ]) {
      expectValidation(await unchanged(() => raw(body)), jsonInvalid);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('a body over 1 MiB → 413 payload_too_large; exactly 1 MiB is read', async () => {
    const limit = 1024 * 1024;
    const padded = (size: number) => {
      const head = '{"title":"Padded","padding":"';
      return head + 'p'.repeat(size - head.length - 2) + '"}';
    };
    expect(padded(limit)).toHaveLength(limit);
    expectError(
      await unchanged(() => raw(padded(limit + 1))),
      413,
      'payload_too_large',
      'The request body is too large.',
    );
    expectError(
      await unchanged(() => raw(padded(10 * limit))),
      413,
      'payload_too_large',
      'The request body is too large.',
    );
    // 1 MiB exactly is within the limit; the unknown field is dropped.
    const accepted = await raw(padded(limit));
    expect(accepted.status).toBe(200);
    expect(accepted.body).not.toHaveProperty('padding');
    expect((await api.delete(`/api/v1/chat/${agentId}/threads/${accepted.body.id}`)).status).toBe(204);
  });

  it('a body that is not JSON → 415 unsupported_media_type', async () => {
    for (const contentType of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/vnd.api+json',
    ]) {
      const response = await unchanged(() => raw('{"title":"x"}', { 'content-type': contentType }));
      expectError(response, 415, 'unsupported_media_type', 'Unsupported Content-Type.');
    }
  });

  it('a Content-Length that does not match the body → 400 bad_request', async () => {
    const response = await unchanged(() => raw('{"title":"x"}', { 'content-length': '3' }));
    expectError(response, 400, 'bad_request', 'The request could not be understood.');
  });

  it('duplicate keys: the last one wins, as in Python', async () => {
    const response = await raw('{"title":"first","title":"last"}');
    expect(response.status).toBe(200);
    expect(response.body.title).toBe('last');
    expect((await api.delete(`/api/v1/chat/${agentId}/threads/${response.body.id}`)).status).toBe(204);
  });
});

describe('server-owned fields are ignored (T10)', () => {
  const owned = {
    id: '01a2237a-1111-7111-8111-111111111111',
    organization_id: '01a2237a-2222-7222-8222-222222222222',
    user_id: '01a2237a-3333-7333-8333-333333333333',
    created_at: '2000-01-01T00:00:00.000Z',
    updated_at: '2000-01-01T00:00:00.000Z',
  };

  it('thread create: id, organization_id, user_id, created_at and others are server-derived', async () => {
    const before = Date.now();
    const response = await api.post(`/api/v1/chat/${agentId}/threads`, {
      ...owned,
      anon_user_id: owned.user_id,
      messages: [{ role: 'user', content: 'planted' }],
      title: 'Owned fields',
    });
    expect(response.status).toBe(200);
    const thread = response.body;
    expect(thread.id).not.toBe(owned.id);
    expect(thread).toMatchObject({
      organization_id: organization.organizationId,
      user_id: organization.userId,
      anon_user_id: null,
      agent_id: agentId,
      messages: [],
      title: 'Owned fields',
    });
    expect(Date.parse(thread.created_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(thread.updated_at).toBe(thread.created_at);
    expect((await api.get(`/api/v1/chat/${agentId}/threads/${thread.id}`)).body).toEqual(thread);
    expect((await api.get(`/api/v1/chat/${agentId}/threads/${owned.id}`)).status).toBe(404);
  });

  it('agent create: id, organization_id, created_at, bot_sub, counters and files are server-derived', async () => {
    const response = await api.post('/api/v1/agents', {
      ...owned,
      bot_sub: 'PLANTED',
      completed_flows_count: 99,
      pending_flows_count: 99,
      files: [{ name: 'planted.pdf' }],
      name: 'Owned fields',
      configuration: {},
      template_id: BLANK_TEMPLATE,
    });
    expect(response.status).toBe(200);
    const agent = response.body;
    expect(agent.id).not.toBe(owned.id);
    expect(agent).toMatchObject({
      organization_id: organization.organizationId,
      completed_flows_count: 0,
      pending_flows_count: 0,
      files: [],
      name: 'Owned fields',
    });
    expect(agent.bot_sub).not.toBe('PLANTED');
    expect(agent.created_at).not.toBe(owned.created_at);
    expect((await api.get(`/api/v1/agents/${agent.id}`)).body).toEqual(agent);
    expect((await api.get(`/api/v1/agents/${owned.id}`)).status).toBe(404);
    expect((await api.delete(`/api/v1/agents/${agent.id}`)).status).toBe(204);
  });

  it("org B sending org A's agent id and organization_id creates a new agent of its own; A's agent is unchanged", async () => {
    const orgA = await context.newOrganization();
    const orgB = await context.newOrganization();
    const apiA = client(context, orgA.key);
    const apiB = client(context, orgB.key);
    const victim = await apiA.createAgent({ name: 'A agent', configuration: { secret: 'a' } });
    const victimThread = await apiA.createThread(victim.id, { title: 'A thread' });
    const stateA = await stateOf(apiA);

    const agent = await apiB.post('/api/v1/agents', {
      id: victim.id,
      organization_id: orgA.organizationId,
      name: 'B agent',
      configuration: { secret: 'b' },
      template_id: BLANK_TEMPLATE,
    });
    expect(agent.status).toBe(200);
    expect(agent.body.id).not.toBe(victim.id);
    expect(agent.body.organization_id).toBe(orgB.organizationId);
    expect(agent.body.name).toBe('B agent');

    const thread = await apiB.post(`/api/v1/chat/${agent.body.id}/threads`, {
      id: victimThread.id,
      organization_id: orgA.organizationId,
      user_id: orgA.userId,
      title: 'B thread',
    });
    expect(thread.status).toBe(200);
    expect(thread.body.id).not.toBe(victimThread.id);
    expect(thread.body).toMatchObject({
      organization_id: orgB.organizationId,
      user_id: orgB.userId,
      agent_id: agent.body.id,
    });

    // PUT with A's organization_id and id changes only B's own fields.
    const updated = await apiB.put(`/api/v1/agents/${agent.body.id}`, {
      id: victim.id,
      organization_id: orgA.organizationId,
      created_at: owned.created_at,
      name: 'B renamed',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: agent.body.id, organization_id: orgB.organizationId, name: 'B renamed' });
    expect(updated.body.created_at).toBe(agent.body.created_at);

    expect(await stateOf(apiA)).toEqual(stateA);
    expect((await apiB.get(`/api/v1/agents/${victim.id}`)).status).toBe(404);
    expect((await apiB.get('/api/v1/agents?limit=100')).body.map((listed: { id: string }) => listed.id)).toEqual([
      agent.body.id,
    ]);
  });
});

describe('PUT /api/v1/agents/{agent_id} is a partial update', () => {
  it('changes only the fields given; configuration, when given, replaces the old one', async () => {
    const agent = await api.createAgent({
      name: 'Partial',
      description: 'Before',
      avatar_url: 'https://example.com/a.png',
      metadata: { a: 1 },
      team_id: ['team-1'],
      configuration: { tone: 'Friendly' },
    });
    // Everything but updated_at, which every successful PUT moves.
    const fields = (body: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(body).filter(([name]) => name !== 'updated_at'));

    const described = await api.put(`/api/v1/agents/${agent.id}`, { description: 'After' });
    expect(described.status).toBe(200);
    expect(fields(described.body)).toEqual({ ...fields(agent), description: 'After' });
    expect(described.body.updated_at >= String(agent.updated_at)).toBe(true);

    const statused = await api.put(`/api/v1/agents/${agent.id}`, { status: 'inactive' });
    expect(fields(statused.body)).toEqual({ ...fields(agent), description: 'After', status: 'inactive' });

    const cleared = await api.put(`/api/v1/agents/${agent.id}`, { avatar_url: null, team_id: null });
    expect(fields(cleared.body)).toEqual({
      ...fields(agent),
      description: 'After',
      status: 'inactive',
      avatar_url: null,
      team_id: null,
    });

    const configured = await api.put(`/api/v1/agents/${agent.id}`, { configuration: { tone: 'Formal' } });
    expect(configured.body.configuration).toEqual({ tone: 'Formal' });
    expect(configured.body.metadata).toEqual({ a: 1 });
    expect(configured.body.name).toBe('Partial');

    const empty = await api.put(`/api/v1/agents/${agent.id}`, {});
    expect(empty.status).toBe(200);
    expect(fields(empty.body)).toEqual(fields(configured.body));

    expect((await api.get(`/api/v1/agents/${agent.id}`)).body).toEqual(empty.body);
    expect((await api.delete(`/api/v1/agents/${agent.id}`)).status).toBe(204);
  });
});

describe('afterwards', () => {
  it('the seeded agent and thread are exactly as created', async () => {
    const agent = await api.get(`/api/v1/agents/${agentId}`);
    expect(agent.body).toMatchObject({ name: 'Validation target', metadata: { keep: 'me' }, status: 'active' });
    const thread = await api.get(`/api/v1/chat/${agentId}/threads/${threadId}`);
    expect(thread.body).toMatchObject({ title: 'Keep me', metadata: { keep: 'me' } });
    expect(thread.body.updated_at).toBe(thread.body.created_at);
    expect(agent.body.updated_at).toBe(agent.body.created_at);
  });

  it('x-request-id is always the server’s own, and error bodies repeat it', async () => {
    const response = await api.request('POST', `/api/v1/chat/${agentId}/threads`, '{', {
      'content-type': 'application/json',
      'x-request-id': 'chosen-by-the-client',
    });
    expect(response.status).toBe(422);
    expect(response.headers['x-request-id']).toMatch(UUID);
    expect(response.body.request_id).toBe(response.headers['x-request-id']);
    const ok = await api.get('/api/v1/agents', { 'x-request-id': 'chosen-by-the-client' });
    expect(ok.headers['x-request-id']).toMatch(UUID);
  });

  it('GET /healthz is still 200 and nothing was logged as an error', async () => {
    const health = await context.parley.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const errors = context.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });
});
