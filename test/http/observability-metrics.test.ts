import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, injectRequest, type TestContext } from '../helpers/harness.js';
import { SseConnection, pollUntil } from '../helpers/sse-client.js';

/**
 * `/metrics` after real requests, runs, tool calls, queued jobs and open streams: the exact
 * names and label sets docs/observability.md lists, and the values those requests account for.
 */

let context: TestContext;
const dialect = process.env.PARLEY_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
beforeAll(async () => {
  // A worker would claim the queued jobs this suite counts: this process only enqueues.
  context = await createTestContext({ jobs: { workerConcurrency: 0 } });
});
afterAll(async () => {
  await context.close();
});

/** The samples of a Prometheus text exposition, by name with labels. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

async function scrape(): Promise<Map<string, number>> {
  const response = await injectRequest(context, { method: 'GET', url: '/metrics' });
  expect(response.status).toBe(200);
  return samples(response.raw);
}

const types = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('# TYPE'))
    .map((line) => line.slice('# TYPE '.length));

describe('GET /metrics', () => {
  it('lists every metric with its type', async () => {
    const response = await injectRequest(context, { method: 'GET', url: '/metrics' });
    expect(types(response.raw)).toEqual([
      'parley_http_request_duration_seconds histogram',
      'parley_runs_total counter',
      'parley_tool_calls_total counter',
      'parley_model_tokens_total counter',
      'parley_db_group_commit_batch_size histogram',
      'parley_event_loop_delay_seconds summary',
      'parley_event_loop_delay_max_seconds gauge',
      'parley_event_loop_utilization gauge',
      'parley_job_queue_depth gauge',
      'parley_job_queue_oldest_due_age_seconds gauge',
      'parley_sse_connections gauge',
      ...(dialect === 'postgres' ? ['parley_db_pool_connections gauge'] : []),
    ]);
  });

  it('times requests by method, route template and status class; unknown paths are `unmatched`', async () => {
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    expect((await api.get(`/api/v1/agents/${agent.id}`)).status).toBe(200);
    expect((await api.get(`/api/v1/agents/${randomUUID()}`)).status).toBe(404);
    expect((await api.get('/api/v1/no-such-route')).status).toBe(404);
    const values = await scrape();
    const route = '/api/v1/agents/:agent_id';
    const count = (method: string, path: string, statusClass: string) =>
      values.get(
        `parley_http_request_duration_seconds_count{method="${method}",route="${path}",status_class="${statusClass}"}`,
      );
    expect(count('POST', '/api/v1/agents', '2xx')).toBeGreaterThanOrEqual(1);
    expect(count('GET', route, '2xx')).toBe(1);
    expect(count('GET', route, '4xx')).toBe(1);
    expect(count('GET', 'unmatched', '4xx')).toBe(1);
    const bucket = `parley_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="${route}",status_class="2xx"}`;
    expect(values.get(bucket)).toBe(1);
    // Durable writes went through the group commit (SQLite's or PostgreSQL's), each batch observed once.
    expect(values.get('parley_db_group_commit_batch_size_count')).toBeGreaterThan(0);
    if (dialect === 'postgres') expect(values.get('parley_db_pool_connections{state="total"}')).toBeGreaterThan(0);
  });

  it('counts a run by outcome, its tool calls by kind and outcome, and its tokens by model', async () => {
    const before = await scrape();
    const organization = await context.newOrganization();
    const api = client(context, organization.key);
    const agent = await api.createAgent({ configuration: { model: 'demo', tools: ['calculator'] } });
    const thread = await api.createThread(agent.id);
    const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'What is 6 * 7?',
    });
    expect(reply.status).toBe(200);
    expect(reply.body.content).toContain('42');
    const after = await pollUntil(async () => {
      const values = await scrape();
      return values.get('parley_runs_total{outcome="completed",source="chat"}') === undefined ? undefined : values;
    });
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta('parley_runs_total{outcome="completed",source="chat"}')).toBe(1);
    expect(delta('parley_tool_calls_total{kind="built_in",outcome="ok"}')).toBe(1);
    const usage = reply.body.metadata.usage;
    expect(delta('parley_model_tokens_total{model="demo",type="input"}')).toBe(usage.input_tokens);
    expect(delta('parley_model_tokens_total{model="demo",type="output"}')).toBe(usage.output_tokens);
  });

  it('reads each queue’s depth and oldest due age, and the open streams, when scraped', async () => {
    const organization = await context.newOrganization();
    const now = Date.now();
    const job = (kind: string, runAfter: number) => ({
      id: randomUUID(),
      organization_id: organization.organizationId,
      kind,
      subject_id: randomUUID(),
      max_attempts: 1,
      progress: {},
      now: new Date(now - 120_000).toISOString(),
      run_after: new Date(runAfter).toISOString(),
    });
    await context.store.write(async (writers) => {
      await writers.jobs.enqueue(job('metrics_test_due', now - 60_000));
      await writers.jobs.enqueue(job('metrics_test_due', now - 1000));
      await writers.jobs.enqueue(job('metrics_test_later', now + 3_600_000));
    });
    const api = client(context, organization.key);
    const agent = await api.createAgent();
    const thread = await api.createThread(agent.id);
    const base = await context.listen();
    const url = `${base}/api/v1/chat/${agent.id}/threads/${thread.id}/stream`;
    const stream = await SseConnection.open(url, { key: organization.key });
    try {
      const values = await scrape();
      expect(values.get('parley_job_queue_depth{queue="metrics_test_due"}')).toBe(2);
      expect(values.get('parley_job_queue_depth{queue="metrics_test_later"}')).toBe(1);
      const age = values.get('parley_job_queue_oldest_due_age_seconds{queue="metrics_test_due"}')!;
      expect(age).toBeGreaterThanOrEqual(60);
      expect(age).toBeLessThan(3600);
      expect(values.get('parley_job_queue_oldest_due_age_seconds{queue="metrics_test_later"}')).toBe(0);
      expect(values.get('parley_sse_connections')).toBe(1);
    } finally {
      stream.abort();
    }
    const closed = await pollUntil(async () => {
      const values = await scrape();
      return values.get('parley_sse_connections') === 0 ? values : undefined;
    });
    // A stream is not a request latency: no histogram series for the stream route.
    const streamRoute = [...closed.keys()].filter((name) => name.includes('/stream"'));
    expect(streamRoute).toEqual([]);
  });
});

describe('GET /metrics with REDIS_URL', () => {
  it('reports the rate limiter’s Redis client as up', async () => {
    const redisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const withRedis = await createTestContext({ rateLimits: { redisUrl, redisKeyPrefix: `metrics-${randomUUID()}` } });
    try {
      const read = async () => {
        const response = await injectRequest(withRedis, { method: 'GET', url: '/metrics' });
        return samples(response.raw).get('parley_redis_up') === 1 ? response.raw : undefined;
      };
      const text = await pollUntil(read);
      expect(text).toContain('# TYPE parley_redis_up gauge');
    } finally {
      await withRedis.close();
    }
    // Without REDIS_URL there is no Redis client, and no gauge.
    expect((await scrape()).has('parley_redis_up')).toBe(false);
  });
});
