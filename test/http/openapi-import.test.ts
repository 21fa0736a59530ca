import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTools, growingRegistry, say } from '../fixtures/scripted-model.js';
import { createTestContext, createThreadRef, type TestContext } from '../helpers/harness.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import { httpJson, storedMessages, threadPath } from '../helpers/sse-client.js';
import { SSRF_DNS_RECORDS, createStubResolver, ssrfVectors, startCountingListener } from '../helpers/ssrf-vectors.js';

/**
 * `POST /api/v1/agents/{agent_id}/tools/import-openapi`: a real description (ReadMe's petstore)
 * inline or fetched through the guarded client becomes tools a run can call; refused URLs never
 * open a socket; what cannot be imported is skipped with a reason.
 */

const corpus = path.dirname(createRequire(import.meta.url).resolve('@readme/oas-examples/package.json'));
const PETSTORE_JSON = fs.readFileSync(path.join(corpus, '3.0/json/petstore.json'), 'utf8');
const PETSTORE_YAML = fs.readFileSync(path.join(corpus, '3.0/yaml/petstore.yaml'), 'utf8');

let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
const models = growingRegistry('openapi-import');
let context: TestContext;
let base: string;
beforeAll(async () => {
  upstream = await startHttpFixture((request, response) => {
    if (request.url === '/openapi.yaml') {
      response.writeHead(200, { 'content-type': 'application/yaml' });
      return void response.end(PETSTORE_YAML);
    }
    const pet = /^\/v2\/pet\/(\d+)$/.exec(request.url);
    if (pet && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' });
      return void response.end(
        JSON.stringify({ id: Number(pet[1]), name: 'Rex', api_key: request.headers.api_key ?? null }),
      );
    }
    response.writeHead(404).end();
  });
  context = await createTestContext({ models: models.registry, outboundAllow: '127.0.0.1' });
  base = await context.listen();
});
afterAll(async () => {
  await context?.close();
  await upstream?.close();
});

async function agentOf(model = 'demo') {
  return createThreadRef(context, { base, configuration: { model } });
}

const importUrl = (agentId: string) => `/api/v1/agents/${agentId}/tools/import-openapi`;

describe('importing a description', () => {
  it('turns each operation into a tool (or a reason), which a run then calls against the API', async () => {
    const model = models.script([callTools({ name: 'pets_getPetById', input: { petId: 7 } }), say('Rex.')]);
    const thread = await agentOf(model.id);
    const imported = await httpJson(base, thread.key, 'POST', importUrl(thread.agentId), {
      document: PETSTORE_JSON,
      base_url: `${upstream.origin}/`,
      tool_name_prefix: 'pets_',
      auth: { type: 'api_key', in: 'header', name: 'api_key', value: 'petstore-secret-key-1234' },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    const { created, planned, skipped } = imported.body;
    expect(created.length + skipped.length).toBe(20);
    expect(planned.map((entry: { tool_name: string }) => entry.tool_name)).toEqual(
      created.map((tool: { tool_name: string }) => tool.tool_name),
    );
    // Form bodies and uploads are what petstore has that a tool cannot send.
    expect(skipped.map((entry: { operation_id: string }) => entry.operation_id).sort()).toEqual([
      'updatePetWithForm',
      'uploadFile',
    ]);
    const getPet = created.find((tool: { tool_name: string }) => tool.tool_name === 'pets_getPetById');
    expect(getPet).toMatchObject({
      tool_type: 'external_tool',
      is_enabled: true,
      configuration: {
        method: 'GET',
        url: 'http://petstore.swagger.io/v2/pet/{petId}',
        auth: { type: 'api_key', in: 'header', name: 'api_key', value: '••••1234' },
      },
    });
    // The description's server is absolute, so base_url did not apply: point the tool at the fixture.
    const patched = await httpJson(base, thread.key, 'PATCH', `/api/v1/agents/${thread.agentId}/tools/${getPet.id}`, {
      configuration: { ...getPet.configuration, url: `${upstream.origin}/v2/pet/{petId}` },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);

    const reply = await httpJson(base, thread.key, 'POST', `${threadPath(thread)}/messages`, {
      role: 'user',
      content: 'Pet 7?',
    });
    expect(reply.status).toBe(200);
    const [, assistant] = await storedMessages(thread);
    expect(assistant.tool_calls[0]).toMatchObject({
      tool_name: 'pets_getPetById',
      arguments: { petId: 7 },
      result: { status: 200, body: { id: 7, name: 'Rex', api_key: 'petstore-secret-key-1234' } },
      error: null,
    });
    const listed = await httpJson(base, thread.key, 'GET', `/api/v1/agents/${thread.agentId}/tools`);
    expect(listed.body).toHaveLength(18);
    expect(JSON.stringify(listed.body)).not.toContain('petstore-secret-key-1234');
  });

  it('fetches a YAML description by URL through the guarded client; a second import skips the names taken', async () => {
    const thread = await agentOf();
    const first = await httpJson(base, thread.key, 'POST', importUrl(thread.agentId), {
      url: `${upstream.origin}/openapi.yaml`,
      operations: ['getPetById', 'GET /store/inventory'],
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.created.map((tool: { tool_name: string }) => tool.tool_name)).toEqual([
      'getPetById',
      'getInventory',
    ]);
    expect(first.body.skipped.filter((entry: { reason: string }) => entry.reason !== 'not selected')).toEqual([]);
    const again = await httpJson(base, thread.key, 'POST', importUrl(thread.agentId), {
      url: `${upstream.origin}/openapi.yaml`,
      operations: ['getPetById'],
    });
    expect(again.body.created).toEqual([]);
    expect(again.body.skipped).toContainEqual({
      operation: 'GET /pet/{petId}',
      operation_id: 'getPetById',
      reason: 'the agent already has a tool named getPetById',
    });
  });

  it('on a dry run says what it would create and stores nothing', async () => {
    const thread = await agentOf();
    const dry = await httpJson(base, thread.key, 'POST', importUrl(thread.agentId), {
      document: JSON.parse(PETSTORE_JSON),
      dry_run: true,
    });
    expect(dry.status).toBe(200);
    expect(dry.body.created).toEqual([]);
    expect(dry.body.planned).toHaveLength(18);
    expect((await httpJson(base, thread.key, 'GET', `/api/v1/agents/${thread.agentId}/tools`)).body).toEqual([]);
  });

  it('answers bad requests at the field and unknown agents with 404, storing nothing', async () => {
    const thread = await agentOf();
    const post = (body: unknown, key = thread.key, agentId = thread.agentId) =>
      httpJson(base, key, 'POST', importUrl(agentId), body);
    const both = await post({ document: PETSTORE_JSON, url: `${upstream.origin}/openapi.yaml` });
    expect([both.status, both.body.detail[0].loc]).toEqual([422, ['body']]);
    const neither = await post({});
    expect([neither.status, neither.body.detail[0].loc]).toEqual([422, ['body']]);
    const notOpenApi = await post({ document: '{"info": {}}' });
    expect(notOpenApi.status).toBe(422);
    expect(notOpenApi.body.detail[0]).toMatchObject({ loc: ['body', 'document'] });
    expect(notOpenApi.body.detail[0].msg).toMatch(/not an OpenAPI 3\.0\/3\.1 or Swagger 2\.0 description/);
    const badAuth = await post({ document: PETSTORE_JSON, auth: { type: 'basic', username: 'x' } });
    expect(badAuth.status).toBe(422);
    expect(badAuth.body.detail[0].loc).toEqual(['body', 'auth', 'password']);
    const missingFile = await post({ url: `${upstream.origin}/nowhere.json` });
    expect(missingFile.status).toBe(422);
    expect(missingFile.body).toMatchObject({
      code: 'url_fetch_failed',
      detail: 'The URL could not be fetched: it answered HTTP 404.',
    });
    expect((await post({ document: PETSTORE_JSON }, thread.key, crypto.randomUUID())).status).toBe(404);
    const stranger = await context.newOrganization();
    const foreign = await post({ document: PETSTORE_JSON }, stranger.key);
    expect([foreign.status, foreign.body.code]).toEqual([404, 'agent_not_found']);
    expect((await httpJson(base, thread.key, 'GET', `/api/v1/agents/${thread.agentId}/tools`)).body).toEqual([]);
  });
});

describe('the SSRF table (T18) against the import URL', () => {
  it('refuses every vector with 422 url_not_allowed before a socket opens', async () => {
    const listener = await startCountingListener();
    const guarded = await createTestContext({ outboundLookup: createStubResolver(SSRF_DNS_RECORDS).lookup });
    try {
      const guardedBase = await guarded.listen();
      const thread = await createThreadRef(guarded, { base: guardedBase, configuration: { model: 'demo' } });
      for (const vector of ssrfVectors(listener.port)) {
        const refused = await httpJson(guardedBase, thread.key, 'POST', importUrl(thread.agentId), { url: vector.url });
        expect(refused.status, vector.label).toBe(422);
        expect(refused.body.code, vector.label).toBe('url_not_allowed');
        expect(refused.body.detail, vector.label).toContain(`(outbound_blocked: ${vector.reason})`);
      }
      expect(listener.connections()).toBe(0);
    } finally {
      await guarded.close();
      await listener.close();
    }
  });
});
