import type http from 'node:http';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BLANK_TEMPLATE } from '../helpers/ids.js';
import { startFakeOpenAiServer, type FakeVendorServer } from '../fixtures/fake-openai-server.js';
import { startHttpFixture, type ReceivedRequest } from '../helpers/http-fixture.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { httpJson } from '../helpers/sse-client.js';
import { createTestDatabase, TEST_DIALECT, type TestDatabase } from '../helpers/test-database.js';

/**
 * A flow's execution whose server is killed with SIGKILL between two tool calls (real `parley
 * serve` processes; SQLite file, or PostgreSQL under `npm run test:pg`): the next server claims
 * the job once its lease lapses and resumes the execution from its journal. The model (a fake
 * OpenAI server with exactly three answers scripted) is not called again for the steps it
 * answered, and the counting upstream sees the completed first call once; the second, in flight
 * at the kill, is made again (at least once).
 */

const OPENAI_KEY = 'test-openai-key';

let database: TestDatabase;
let model: FakeVendorServer;
let upstream: Awaited<ReturnType<typeof startHttpFixture>>;
const servers: ServerProcess[] = [];

/** `/count/<n>` answers `{n, seen}`, but leaves the first request to `/count/b` unanswered. */
function answer(request: ReceivedRequest, response: http.ServerResponse): void {
  const seen = requestsTo(request.url);
  if (request.url === '/count/b' && seen === 1) return;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ n: request.url.slice('/count/'.length), seen }));
}
const requestsTo = (path: string) => upstream.received.filter((received) => received.url === path).length;

beforeEach(async () => {
  database = await createTestDatabase(TEST_DIALECT);
  model = await startFakeOpenAiServer({ apiKey: OPENAI_KEY });
  upstream = await startHttpFixture(answer);
});
afterEach(async () => {
  for (const server of servers.splice(0)) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await upstream.close();
  await model.close();
  await database.destroy();
});

async function launch(): Promise<ServerProcess> {
  const target = database.target;
  const server = await startServer({
    DATABASE_URL: target.kind === 'sqlite' ? `sqlite:${target.filename}` : target.connectionString,
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '1',
    JOB_LEASE_MS: '1000',
    JOB_POLL_MS: '200',
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: `${model.baseUrl}/v1`,
    OUTBOUND_ALLOW: '127.0.0.1',
  });
  servers.push(server);
  return server;
}

const toolCall = (id: string, n: string) => ({
  kind: 'tool-calls' as const,
  calls: [{ id, name: 'count', argumentsChunks: [`{"n":"${n}"}`] }],
  usage: { inputTokens: 10, outputTokens: 2 },
});

async function countingFlow(server: ServerProcess, key: string): Promise<string> {
  const call = (method: string, path: string, body?: unknown) => httpJson(server.baseUrl, key, method, path, body);
  const agent = await call('POST', '/api/v1/agents', {
    name: 'journal agent',
    configuration: { model: 'openai:gpt-4.1-mini', max_steps: 5 },
    template_id: BLANK_TEMPLATE,
  });
  expect(agent.status).toBe(200);
  const tool = await call('POST', `/api/v1/agents/${agent.body.id}/tools`, {
    tool_name: 'count',
    tool_type: 'external_tool',
    configuration: {
      description: 'Counts a call.',
      method: 'GET',
      url: `${upstream.origin}/count/{n}`,
      input_schema: { type: 'object', properties: { n: { type: 'string' } }, required: ['n'] },
    },
  });
  expect(tool.status, JSON.stringify(tool.body)).toBe(200);
  const flow = await call('POST', `/api/v1/agents/${agent.body.id}/flows`, {
    name: 'count twice',
    instructions: 'Count a, then b.',
    tools: ['count'],
  });
  expect(flow.status).toBe(200);
  return flow.body.id as string;
}

/** Resolves when `predicate` holds, checked every 20 ms; throws after 30 s. */
async function eventually<Value>(read: () => Promise<Value>, predicate: (value: Value) => boolean): Promise<Value> {
  const deadline = Date.now() + 30_000;
  let last: Value | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out; last seen: ${JSON.stringify(last)}`);
}

it('resumes a killed execution after its last completed tool call, without making it again', async () => {
  const first = await launch();
  const key = first.key!;
  const flowId = await countingFlow(first, key);
  model.script(toolCall('call_a', 'a'), toolCall('call_b', 'b'), {
    kind: 'text',
    chunks: ['Counted ', 'twice.'],
    usage: { inputTokens: 10, outputTokens: 2 },
  });
  const executed = await httpJson(first.baseUrl, key, 'POST', '/api/v1/flows/execute', {
    flow_id: flowId,
    trigger_type: 'test',
  });
  expect(executed.status).toBe(200);
  const id = executed.body.execution.id as string;
  await eventually(
    async () => requestsTo('/count/b'),
    (count) => count === 1,
  );
  first.child.kill('SIGKILL');
  await first.exited;

  const second = await launch();
  const read = async () => (await httpJson(second.baseUrl, key, 'GET', `/api/v1/flows/executions/${id}`)).body;
  const done = await eventually(read, (execution) => execution.completed_at !== null);
  expect(done).toMatchObject({ status: 'completed', final_output: { text: 'Counted twice.' }, tool_calls_count: 2 });
  expect([requestsTo('/count/a'), requestsTo('/count/b')]).toEqual([1, 2]);
  // Three model calls in all: the resumed attempt made only the one after the last result.
  expect(model.requests.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(3);
  expect(done.steps.map((step: { step_id: string }) => step.step_id)).toEqual([
    'model-1',
    'tool-call_a',
    'model-2',
    'resume-1',
    'tool-call_b',
    'model-3',
  ]);
  expect(done.steps[3]).toMatchObject({ step_type: 'resume', output_data: { rerun_tool_calls: ['call_b'] } });
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 90_000);
