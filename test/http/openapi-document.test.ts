import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';
import { loadSpec } from '../helpers/routes.js';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

let context: TestContext;
let spec: any;
let operations: { name: string; operation: any }[];

beforeAll(async () => {
  context = await createTestContext();
  spec = await loadSpec(context);
  operations = Object.entries<Record<string, any>>(spec.paths).flatMap(([path, item]) =>
    Object.entries<any>(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
  );
});

afterAll(async () => {
  await context.close();
});

const STREAM_OPERATIONS = [
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream',
  'GET /api/v1/chat/{agent_id}/threads/{thread_id}/stream',
];

function operationNamed(name: string): any {
  const found = operations.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no operation ${name}`);
  return found.operation;
}

describe('the OpenAPI document', () => {
  it('names every operation with a unique operationId', () => {
    const missing = operations.filter(({ operation }) => typeof operation.operationId !== 'string');
    expect(missing.map(({ name }) => name)).toEqual([]);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operationNamed('GET /api/v1/agents').operationId).toBe('listAgents');
    expect(operationNamed('POST /api/v1/chat/{agent_id}/threads').operationId).toBe('createChatThread');
  });

  it('makes no parameter with a default required', () => {
    const wrong = operations.flatMap(({ name, operation }) =>
      (operation.parameters ?? [])
        .filter((parameter: any) => parameter.required === true && parameter.schema?.default !== undefined)
        .map((parameter: any) => `${name} ${parameter.name}`),
    );
    expect(wrong).toEqual([]);
    const limit = operationNamed('GET /api/v1/agents').parameters.find((parameter: any) => parameter.name === 'limit');
    expect(limit.schema.default).toBe(50);
    expect(limit.required).not.toBe(true);
  });

  it('declares the 200 of both streaming routes as text/event-stream, and the headers they read', () => {
    for (const name of STREAM_OPERATIONS) {
      const ok = operationNamed(name).responses['200'];
      expect(Object.keys(ok.content)).toEqual(['text/event-stream']);
      expect(ok.content['text/event-stream'].schema.type).toBe('string');
      expect(ok.description).toContain('run-end');
    }
    const follow = operationNamed(STREAM_OPERATIONS[1]!);
    expect(follow.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'Last-Event-ID' }));
  });

  it('declares Idempotency-Key on every creating POST, with a 422 that allows both error shapes', () => {
    // JSON bodies: the streamed multipart upload cannot be compared with a first request's, and
    // is documented without the header (docs/api.md, "Idempotency").
    // The widget's session and identify calls are not creates to replay: a session is a new
    // credential each time (a replay would have to store the token, as for stream tokens), and
    // identifying the same user again is already idempotent (docs/widget.md).
    const notReplayed = ['POST /api/v1/widget/sessions', 'POST /api/v1/widget/identify'];
    const creating = operations.filter(
      ({ name, operation }) =>
        name.startsWith('POST') && operation.requestBody?.content?.['application/json'] && !notReplayed.includes(name),
    );
    expect(creating.length).toBeGreaterThanOrEqual(5);
    for (const { operation } of creating) {
      expect(operation.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'Idempotency-Key' }));
      const schema = operation.responses['422'].content['application/json'].schema;
      expect(schema.anyOf.map((branch: any) => branch.$ref)).toEqual([
        '#/components/schemas/HTTPValidationError',
        '#/components/schemas/ErrorResponse',
      ]);
    }
  });

  it('declares the error answers of the edge on authenticated routes and routes with a body', () => {
    for (const { name, operation } of operations) {
      const statuses = Object.keys(operation.responses);
      expect(statuses, name).toEqual(expect.arrayContaining(['500', '503']));
      if (operation.security?.length === 0) continue;
      expect(statuses, name).toEqual(expect.arrayContaining(['401', '403', '429']));
      if (operation.requestBody) expect(statuses, name).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
    }
  });

  it('declares the stream-token extension, and the stream token as the follow route’s other credential', () => {
    const issue = operationNamed('POST /api/v1/chat/{agent_id}/threads/{thread_id}/stream-token');
    expect(issue).toMatchObject({ operationId: 'createStreamToken', tags: ['chat'], 'x-parley-extension': true });
    expect(issue.requestBody).toBeUndefined();
    expect(issue.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/StreamToken',
    });
    expect(Object.keys(issue.responses).sort()).toEqual(['200', '401', '403', '404', '422', '429', '500', '503']);
    expect(spec.components.schemas.StreamToken.required).toEqual(['token', 'expires_at', 'stream_url']);
    // Both also admit a widget visitor's token (docs/widget.md).
    expect(operationNamed(STREAM_OPERATIONS[1]!).security).toEqual([
      { APIKeyHeader: [] },
      { StreamToken: [] },
      { VisitorToken: [] },
    ]);
    expect(operationNamed(STREAM_OPERATIONS[0]!).security).toEqual([{ APIKeyHeader: [] }, { VisitorToken: [] }]);
  });

  it('has a relative servers entry', () => {
    expect(spec.servers).toEqual([{ url: '/' }]);
  });

  it('compiles with ajv in strict mode: every component schema and every schema of every operation', () => {
    // Local references become ids, so that each schema compiles on its own.
    const rewritten = JSON.parse(JSON.stringify(spec).replaceAll('"#/components/schemas/', '"'));
    const ajv = new Ajv({ strict: true });
    addFormats(ajv);
    for (const [name, schema] of Object.entries<any>(rewritten.components.schemas))
      ajv.addSchema({ ...schema, $id: name });
    for (const name of Object.keys(rewritten.components.schemas)) expect(() => ajv.getSchema(name), name).not.toThrow();
    const operationSchemas = Object.values<any>(rewritten.paths)
      .flatMap((item) => Object.values<any>(item))
      .flatMap((operation) => [
        ...(operation.parameters ?? []).map((parameter: any) => parameter.schema),
        ...Object.values<any>(operation.requestBody?.content ?? {}).map((media) => media.schema),
        ...Object.values<any>(operation.responses).flatMap((response) =>
          Object.values<any>(response.content ?? {}).map((media) => media.schema),
        ),
      ]);
    for (const schema of operationSchemas) expect(() => ajv.compile(schema)).not.toThrow();
  });

  it('publishes no Parley-only keyword', () => {
    expect(JSON.stringify(spec)).not.toContain('x-max-value-length');
  });

  it('does not forbid the unknown request fields the server accepts and ignores', async () => {
    for (const name of [
      'AgentCreate',
      'AgentUpdate',
      'ChatThreadCreate',
      'ChatThreadUpdate',
      'ChatMessageCreate',
      'ApiKeyCreate',
    ])
      expect(spec.components.schemas[name].additionalProperties, name).toBeUndefined();
    // Response bodies are exactly what they say.
    expect(spec.components.schemas.ChatThread.additionalProperties).toBe(false);
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ unknown_field: 1 });
    expect(agent).not.toHaveProperty('unknown_field');
  });

  it('is what the harness checks every JSON response against', async () => {
    const json = 'application/json; charset=utf-8';
    const check = (status: number, body: unknown, method = 'GET') =>
      context.responseCheck.problemWith({ method, url: '/api/v1/agents?limit=5', status, contentType: json, body });
    const error = { detail: 'Agent not found.', code: 'agent_not_found', request_id: 'r' };
    expect(await check(200, [])).toBeNull();
    expect(await check(401, error)).toBeNull();
    expect(await check(200, [{ id: 'not an agent' }])).toContain('body does not match the document');
    expect(await check(418, error)).toContain('status not declared');
    expect(await check(200, 'text', 'PATCH')).toBeNull();
    const literal = await context.responseCheck.problemWith({
      method: 'DELETE',
      url: '/api/v1/chat/clear-all-chats?agent_id=x',
      status: 200,
      contentType: json,
      body: {},
    });
    expect(literal).toBeNull();
  });
});
