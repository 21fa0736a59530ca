import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoredToolResolver } from '../../src/features/tools/stored-tool-resolver.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { ServerSecret } from '../../src/security/server-secret.js';
import { BUILTIN_TOOLS } from '../../src/tools/builtin/index.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { UUID_PATTERN } from '../helpers/ids.js';
import { dumpDatabase } from '../helpers/routes.js';

let context: TestContext;
let api: Api;
let agentId: string;

beforeAll(async () => {
  context = await createTestContext();
  const organization = await context.newOrganization();
  api = client(context, organization.key);
  agentId = (await api.createAgent()).id;
});
afterAll(async () => {
  await context?.close();
});

const toolsUrl = (agent = agentId) => `/api/v1/agents/${agent}/tools`;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** An external tool's configuration with every kind of secret the tests look for. */
function externalConfiguration(overrides: Record<string, unknown> = {}) {
  return {
    description: 'Looks up an order by its number.',
    method: 'GET',
    url: 'https://api.example.com/orders/{order_id}',
    input_schema: {
      type: 'object',
      properties: { order_id: { type: 'string', maxLength: 32 } },
      required: ['order_id'],
      additionalProperties: false,
    },
    headers: { 'X-Api-Version': 'version-2026-01', 'X-Tenant-Secret': 'tenant-header-secret-4242' },
    timeout_ms: 5000,
    requires_approval: true,
    auth: { type: 'bearer', token: 'bearer-token-secret-9876' },
    ...overrides,
  };
}

async function newAgent(): Promise<string> {
  return (await api.createAgent()).id;
}

describe('agent tools: create, list, get, update, delete', () => {
  it('creates the contract’s example tool and answers it as an AgentTool', async () => {
    const agent = await newAgent();
    const created = await api.post(toolsUrl(agent), {
      tool_name: 'knowledge_base_search',
      tool_type: 'built_in',
      configuration: { include_metadata: true, max_results: 10 },
      is_enabled: true,
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      agent_id: agent,
      tool_name: 'knowledge_base_search',
      tool_type: 'built_in',
      configuration: { include_metadata: true, max_results: 10 },
      is_enabled: true,
      mcp_server_id: null,
      external_tool_connection_id: null,
      created_at: expect.stringMatching(ISO),
      updated_at: created.body.created_at,
    });
    const fetched = await api.get(`${toolsUrl(agent)}/${created.body.id}`);
    expect(fetched).toMatchObject({ status: 200, body: created.body });
    expect((await api.get(toolsUrl(agent))).body).toEqual([created.body]);
  });

  it('lists in the order added, filtered by tool_type and is_enabled', async () => {
    const agent = await newAgent();
    const calculator = (await api.post(toolsUrl(agent), { tool_name: 'calculator', tool_type: 'built_in' })).body;
    const time = (
      await api.post(toolsUrl(agent), {
        tool_name: 'current_time',
        tool_type: 'built_in',
        configuration: null,
        is_enabled: false,
      })
    ).body;
    const external = (
      await api.post(toolsUrl(agent), {
        tool_name: 'lookup_order',
        tool_type: 'external_tool',
        agent_id: agent,
        configuration: externalConfiguration(),
      })
    ).body;
    expect(calculator.configuration).toBeNull();
    expect(time).toMatchObject({ configuration: null, is_enabled: false });
    const ids = async (query: string) =>
      ((await api.get(`${toolsUrl(agent)}${query}`)).body as { id: string }[]).map((tool) => tool.id);
    expect(await ids('')).toEqual([calculator.id, time.id, external.id]);
    expect(await ids('?tool_type=built_in')).toEqual([calculator.id, time.id]);
    expect(await ids('?tool_type=external_tool')).toEqual([external.id]);
    expect(await ids('?is_enabled=false')).toEqual([time.id]);
    expect(await ids('?is_enabled=true&tool_type=built_in')).toEqual([calculator.id]);
    const badFilter = await api.get(`${toolsUrl(agent)}?tool_type=plugin`);
    expect(badFilter.status).toBe(422);
    expect(badFilter.body.detail[0].loc).toEqual(['query', 'tool_type']);
  });

  it('updates with PATCH (only the fields given) and deletes with 204', async () => {
    const agent = await newAgent();
    const tool = (
      await api.post(toolsUrl(agent), {
        tool_name: 'current_time',
        tool_type: 'built_in',
        configuration: { timezone: 'Europe/Paris' },
      })
    ).body;
    const disabled = await api.patch(`${toolsUrl(agent)}/${tool.id}`, { is_enabled: false });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({ ...tool, is_enabled: false, updated_at: expect.stringMatching(ISO) });
    const reconfigured = await api.patch(`${toolsUrl(agent)}/${tool.id}`, {
      configuration: { timezone: 'Asia/Tokyo' },
    });
    expect(reconfigured.body).toMatchObject({ configuration: { timezone: 'Asia/Tokyo' }, is_enabled: false });
    expect((await api.get(`${toolsUrl(agent)}/${tool.id}`)).body).toEqual(reconfigured.body);

    const deleted = await api.delete(`${toolsUrl(agent)}/${tool.id}`);
    expect({ status: deleted.status, raw: deleted.raw }).toEqual({ status: 204, raw: '' });
    expect((await api.get(`${toolsUrl(agent)}/${tool.id}`)).body.code).toBe('tool_not_found');
    expect((await api.delete(`${toolsUrl(agent)}/${tool.id}`)).status).toBe(404);
    expect((await api.get(toolsUrl(agent))).body).toEqual([]);
  });

  it('answers 404 agent_not_found or tool_not_found for what is not the organisation’s, changing nothing', async () => {
    const other = await context.newOrganization();
    const intruder = client(context, other.key);
    const agent = await newAgent();
    const tool = (await api.post(toolsUrl(agent), { tool_name: 'calculator', tool_type: 'built_in' })).body;
    const before = await dumpDatabase(context);
    const expectCode = (response: { status: number; body: { code: string } }, code: string) =>
      expect({ status: response.status, code: response.body.code }).toEqual({ status: 404, code });
    expectCode(await intruder.get(toolsUrl(agent)), 'agent_not_found');
    expectCode(await intruder.get(`${toolsUrl(agent)}/${tool.id}`), 'agent_not_found');
    expectCode(
      await intruder.post(toolsUrl(agent), { tool_name: 'current_time', tool_type: 'built_in' }),
      'agent_not_found',
    );
    expectCode(await intruder.patch(`${toolsUrl(agent)}/${tool.id}`, { tool_name: 'current_time' }), 'agent_not_found');
    expectCode(await intruder.delete(`${toolsUrl(agent)}/${tool.id}`), 'agent_not_found');
    expectCode(await api.get(`${toolsUrl(agent)}/not-a-tool`), 'tool_not_found');
    expectCode(await api.get(toolsUrl('not-an-agent')), 'agent_not_found');
    expect(await dumpDatabase(context)).toEqual(before);
  });

  it('keeps names unique per agent: 409 tool_name_taken on create and on rename', async () => {
    const agent = await newAgent();
    await api.post(toolsUrl(agent), { tool_name: 'calculator', tool_type: 'built_in' });
    const time = (await api.post(toolsUrl(agent), { tool_name: 'current_time', tool_type: 'built_in' })).body;
    const again = await api.post(toolsUrl(agent), { tool_name: 'calculator', tool_type: 'built_in' });
    expect({ status: again.status, body: again.body }).toEqual({
      status: 409,
      body: {
        detail: 'The agent already has a tool with this name.',
        code: 'tool_name_taken',
        request_id: again.headers['x-request-id'],
      },
    });
    const external = await api.post(toolsUrl(agent), {
      tool_name: 'lookup',
      tool_type: 'external_tool',
      configuration: externalConfiguration(),
    });
    const rename = await api.patch(`${toolsUrl(agent)}/${external.body.id}`, { tool_name: 'current_time' });
    expect(rename.body.code).toBe('tool_name_taken');
    expect((await api.get(`${toolsUrl(agent)}/${time.id}`)).body).toEqual(time);
    // Another agent may use the same name.
    expect((await api.post(toolsUrl(), { tool_name: 'calculator', tool_type: 'built_in' })).status).toBe(200);
  });

  it('replays a create with the same Idempotency-Key instead of making a second tool', async () => {
    const agent = await newAgent();
    const body = { tool_name: 'calculator', tool_type: 'built_in' };
    const headers = { 'idempotency-key': 'create-calculator-1' };
    const first = await api.post(toolsUrl(agent), body, headers);
    const replay = await api.post(toolsUrl(agent), body, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect((await api.get(toolsUrl(agent))).body).toHaveLength(1);
  });
});

describe('agent tools: validation', () => {
  const refused = async (body: Record<string, unknown>, loc: (string | number)[], msg?: string) => {
    const before = await api.get(toolsUrl());
    const response = await api.post(toolsUrl(), body);
    expect(response.status, JSON.stringify(response.body)).toBe(422);
    expect(response.body.code).toBe('validation_error');
    expect(response.body.detail[0].loc).toEqual(loc);
    if (msg !== undefined) expect(response.body.detail[0].msg).toBe(msg);
    expect((await api.get(toolsUrl())).body).toEqual(before.body);
    return response.body.detail as { loc: unknown[]; msg: string; type: string }[];
  };

  it('refuses tool names that are not function names', async () => {
    for (const name of ['1calculator', '-x', 'has space', 'a'.repeat(65), '', 'ünïcode']) {
      await refused({ tool_name: name, tool_type: 'external_tool', configuration: externalConfiguration() }, [
        'body',
        'tool_name',
      ]);
    }
  });

  it('refuses unknown built-ins, bad built-in configuration and MCP servers for now', async () => {
    await refused(
      { tool_name: 'weather', tool_type: 'built_in' },
      ['body', 'tool_name'],
      'Unknown built-in tool: one of current_time, calculator, http_request, knowledge_base_search',
    );
    await refused(
      { tool_name: 'knowledge_base_search', tool_type: 'built_in', configuration: { max_results: 51 } },
      ['body', 'configuration', 'max_results'],
      'Input should be less than or equal to 50',
    );
    await refused(
      { tool_name: 'knowledge_base_search', tool_type: 'built_in', configuration: { include_metadata: 'yes' } },
      ['body', 'configuration', 'include_metadata'],
      'Input should be a valid boolean',
    );
    await refused(
      { tool_name: 'current_time', tool_type: 'built_in', configuration: { timezone: 'Mars/Olympus_Mons' } },
      ['body', 'configuration', 'timezone'],
      'Unknown IANA time zone "Mars/Olympus_Mons"',
    );
    await refused(
      { tool_name: 'calculator', tool_type: 'built_in', configuration: { precision: 3 } },
      ['body', 'configuration', 'precision'],
      'Extra inputs are not permitted',
    );
    await refused(
      { tool_name: 'http_request', tool_type: 'built_in', configuration: { allowed_methods: ['DELETE'] } },
      ['body', 'configuration', 'allowed_methods', 0],
    );
    await refused(
      { tool_name: 'search', tool_type: 'mcp_server', mcp_server_id: '0190a8a8-0000-7000-8000-000000000000' },
      ['body', 'mcp_server_id'],
      'The agent has no MCP server with this id',
    );
    await refused(
      { tool_name: 'calculator', tool_type: 'built_in', agent_id: '0190a8a8-0000-7000-8000-000000000000' },
      ['body', 'agent_id'],
      'agent_id in the body must match the agent_id in the path',
    );
    await refused(
      {
        tool_name: 'calculator',
        tool_type: 'built_in',
        external_tool_connection_id: '0190a8a8-0000-7000-8000-000000000000',
      },
      ['body', 'external_tool_connection_id'],
    );
  });

  it('refuses external tools whose configuration is incomplete, unsafe or inconsistent', async () => {
    const external = (configuration: unknown) => ({ tool_name: 'lookup', tool_type: 'external_tool', configuration });
    await refused(external(null), ['body', 'configuration'], 'Field required');
    await refused(
      external({ ...externalConfiguration(), description: undefined }),
      ['body', 'configuration', 'description'],
      'Field required',
    );
    await refused(external(externalConfiguration({ method: 'TRACE' })), ['body', 'configuration', 'method']);
    await refused(
      external(externalConfiguration({ url: 'ftp://files.example.com/{order_id}' })),
      ['body', 'configuration', 'url'],
      'URL scheme should be http or https',
    );
    await refused(
      external(externalConfiguration({ url: 'https://{order_id}.example.com/' })),
      ['body', 'configuration', 'url'],
      'Placeholders such as {name} may appear only in the URL’s path',
    );
    await refused(
      external(externalConfiguration({ url: 'https://user:pass@example.com/' })),
      ['body', 'configuration', 'url'],
      'The URL may not hold credentials; use auth',
    );
    await refused(
      external(externalConfiguration({ url: 'https://api.example.com/customers/{customer_id}' })),
      ['body', 'configuration', 'url'],
      '{customer_id} is not a property of input_schema.properties',
    );
    await refused(
      external(externalConfiguration({ query: { expand: '{lines}' } })),
      ['body', 'configuration', 'query', 'expand'],
      '{lines} is not a property of input_schema.properties',
    );
    await refused(
      external(externalConfiguration({ input_schema: { type: 'array' } })),
      ['body', 'configuration', 'input_schema'],
      'input_schema must be a JSON Schema with "type": "object"',
    );
    await refused(
      external(
        externalConfiguration({ input_schema: { type: 'object', properties: { order_id: { type: 'strin' } } } }),
      ),
      ['body', 'configuration', 'input_schema'],
    );
    const strictness = await refused(
      external(
        externalConfiguration({
          input_schema: { type: 'object', properties: { order_id: { type: 'string', maxLength: 3 } }, colour: 'red' },
        }),
      ),
      ['body', 'configuration', 'input_schema'],
    );
    expect(strictness[0]!.msg).toBe('input_schema is not a valid JSON Schema: strict mode: unknown keyword: "colour"');
    await refused(
      external(
        externalConfiguration({
          input_schema: {
            type: 'object',
            properties: { order_id: { type: 'string', pattern: '^(a+)+$', maxLength: 40 } },
          },
        }),
      ),
      ['body', 'configuration', 'input_schema'],
      // Even bounded, a nested quantifier is exponential: no client-given regex is ever run.
      'input_schema may not use pattern (at /properties/order_id): the server runs no client-given regular expression; describe the format instead',
    );
    await refused(
      external(
        externalConfiguration({
          input_schema: { type: 'object', properties: { when: { type: 'string', format: 'date-time' } } },
        }),
      ),
      ['body', 'configuration', 'input_schema'],
      "input_schema is not safe to validate untrusted input with: /properties/when must have required property 'maxLength'",
    );
    await refused(
      external(
        externalConfiguration({ auth: { type: 'api_key', in: 'cookie', name: 'key', value: 'secret-value-1' } }),
      ),
      ['body', 'configuration', 'auth', 'in'],
    );
    await refused(
      external(externalConfiguration({ auth: { type: 'basic', username: 'me' } })),
      ['body', 'configuration', 'auth', 'password'],
      'Field required',
    );
    await refused(external(externalConfiguration({ auth: { type: 'kerberos' } })), [
      'body',
      'configuration',
      'auth',
      'type',
    ]);
    await refused(
      external(externalConfiguration({ timeout_ms: 600_000 })),
      ['body', 'configuration', 'timeout_ms'],
      'Input should be less than or equal to 60000',
    );
    await refused(
      external(externalConfiguration({ auth: { type: 'bearer', token: '••••9876' } })),
      ['body', 'configuration', 'auth', 'token'],
      'A masked value keeps the stored secret only where that secret is; send the secret itself',
    );
  });
});

describe('agent tools: secrets at rest', () => {
  const secrets = ['bearer-token-secret-9876', 'tenant-header-secret-4242', 'version-2026-01'];

  it('seals secrets in the database, masks them in every response and in no log line shows them', async () => {
    const agent = await newAgent();
    const created = await api.post(toolsUrl(agent), {
      tool_name: 'lookup_order',
      tool_type: 'external_tool',
      configuration: externalConfiguration(),
    });
    expect(created.status).toBe(200);
    const masked = {
      ...externalConfiguration(),
      headers: { 'X-Api-Version': '••••6-01', 'X-Tenant-Secret': '••••4242' },
      auth: { type: 'bearer', token: '••••9876' },
    };
    expect(created.body.configuration).toEqual(masked);
    expect((await api.get(`${toolsUrl(agent)}/${created.body.id}`)).body.configuration).toEqual(masked);
    expect((await api.get(toolsUrl(agent))).body[0].configuration).toEqual(masked);

    // T8: the secrets appear nowhere in the SQLite file's bytes (WAL included) nor in the logs.
    const target = context.database.target;
    if (target.kind === 'sqlite') {
      for (const file of [target.filename, `${target.filename}-wal`]) {
        if (!fs.existsSync(file)) continue;
        const bytes = fs.readFileSync(file);
        for (const secret of secrets) expect(bytes.includes(Buffer.from(secret)), `${secret} in ${file}`).toBe(false);
      }
    }
    const dump = JSON.stringify(await dumpDatabase(context));
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
      expect(context.logs.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(dump).toContain('psb1.');
  });

  it('keeps a stored secret when PATCH sends its masked value back, and replaces it when given a new one', async () => {
    const agent = await newAgent();
    const created = (
      await api.post(toolsUrl(agent), {
        tool_name: 'lookup_order',
        tool_type: 'external_tool',
        configuration: externalConfiguration(),
      })
    ).body;
    const url = `${toolsUrl(agent)}/${created.id}`;
    const sealedBefore = JSON.stringify(await dumpDatabase(context));
    const resent = await api.patch(url, {
      configuration: { ...created.configuration, description: 'Finds an order.' },
    });
    expect(resent.status).toBe(200);
    expect(resent.body.configuration).toEqual({ ...created.configuration, description: 'Finds an order.' });

    const box = new SecretBox(ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: context.secretKeyFile }));
    const organizationId = await organizationOf(agent);
    const opened = async () => {
      const tool = await context.store.agentTools.get({ organizationId, agentId: agent, id: created.id });
      const configuration = tool!.configuration as { auth: { token: string }; headers: Record<string, string> };
      return { token: box.open(configuration.auth.token), header: box.open(configuration.headers['X-Tenant-Secret']!) };
    };
    expect(await opened()).toEqual({ token: 'bearer-token-secret-9876', header: 'tenant-header-secret-4242' });
    expect(sealedBefore).not.toContain('bearer-token-secret-9876');

    const rotated = await api.patch(url, {
      configuration: { ...created.configuration, auth: { type: 'bearer', token: 'a-brand-new-token-5555' } },
    });
    expect(rotated.body.configuration.auth).toEqual({ type: 'bearer', token: '••••5555' });
    expect(await opened()).toEqual({ token: 'a-brand-new-token-5555', header: 'tenant-header-secret-4242' });

    // A masked value that is not the stored secret's mask is refused, and changes nothing.
    const wrong = await api.patch(url, {
      configuration: { ...created.configuration, auth: { type: 'bearer', token: '••••9876' } },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.detail[0].loc).toEqual(['body', 'configuration', 'auth', 'token']);
    expect(await opened()).toEqual({ token: 'a-brand-new-token-5555', header: 'tenant-header-secret-4242' });
  });
});

async function organizationOf(agentId: string): Promise<string> {
  const response = await api.get(`/api/v1/agents/${agentId}`);
  return response.body.organization_id as string;
}

describe('agent tools: what runs get', () => {
  it('applies a stored current_time’s default time zone in a run', async () => {
    const agent = await newAgent();
    await api.post(toolsUrl(agent), {
      tool_name: 'current_time',
      tool_type: 'built_in',
      configuration: { timezone: 'Asia/Tokyo' },
    });
    const thread = await api.createThread(agent);
    const reply = await api.post(`/api/v1/chat/${agent}/threads/${thread.id}/messages`, {
      content: 'what time is it?',
      role: 'user',
    });
    expect(reply.status).toBe(200);
    expect(reply.body.tool_calls).toHaveLength(1);
    expect(reply.body.tool_calls[0]).toMatchObject({ tool_name: 'current_time', error: null });
    expect(reply.body.tool_calls[0].result.timezone).toBe('Asia/Tokyo');
  });

  it('resolves enabled stored tools, then configuration.tools names no stored tool has', async () => {
    const agent = await api.createAgent({
      configuration: { tools: ['calculator', 'current_time', 'unknown', 'knowledge_base_search'] },
    });
    await api.post(toolsUrl(agent.id), { tool_name: 'current_time', tool_type: 'built_in', is_enabled: false });
    await api.post(toolsUrl(agent.id), {
      tool_name: 'lookup_order',
      tool_type: 'external_tool',
      configuration: externalConfiguration(),
    });
    const box = new SecretBox(ServerSecret.fromConfig({ secretKey: undefined, secretKeyFile: context.secretKeyFile }));
    const resolver = new StoredToolResolver({
      store: context.store,
      box,
      catalog: BUILTIN_TOOLS,
      outbound: context.parley.outbound,
    });
    const stored = await context.store.agents.get({ organizationId: await organizationOf(agent.id), id: agent.id });
    const tools = await resolver.resolve({ organizationId: stored!.organization_id, agent: stored! });
    expect(tools.map((tool) => tool.name)).toEqual(['lookup_order', 'calculator', 'knowledge_base_search']);
    const [external, , knowledge] = tools;
    expect(external).toMatchObject({
      description: 'Looks up an order by its number.',
      inputSchema: externalConfiguration().input_schema,
      timeoutMs: 5000,
      requiresApproval: true,
    });
    const context_ = { signal: new AbortController().signal, now: () => new Date() };
    // Its calls are tested against loopback fixtures in test/http/external-tools.test.ts.
    // This resolver was given no knowledge search: the tool is there, its calls are error results
    // (the tool with a knowledge search: test/http/knowledge-tool*.test.ts).
    expect(knowledge).toMatchObject({ citesSources: true });
    await expect(knowledge!.execute({ query: 'refunds' }, context_)).rejects.toThrow(
      'knowledge_base_search is not available: this server has no knowledge search',
    );
    // The same schema is the same object in the next run: the runner's compiled validator is reused.
    const again = await resolver.resolve({ organizationId: stored!.organization_id, agent: stored! });
    expect(again[0]!.inputSchema).toBe(external!.inputSchema);
  });
});
