import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { jobEnded, queryRows } from '../helpers/agent-files.js';
import { htmlPage, startSiteServer, type SiteServer } from '../fixtures/site-server.js';

/**
 * CRAWL_RECRAWL_INTERVAL_MS: a URL file last indexed longer ago than the interval gets a re-crawl
 * job of its own (never a second while one is queued or running), which refreshes its index.
 */

const INTERVAL_MS = 1000;

let site: SiteServer;
let context: TestContext;
let api: Api;
let key: string;
let agentId: string;

beforeAll(async () => {
  site = await startSiteServer();
  const defaults = loadConfig({}).knowledge;
  context = await createTestContext({
    outboundAllow: `127.0.0.1:${site.port}`,
    knowledgeConfig: { crawl: { ...defaults.crawl, recrawlIntervalMs: INTERVAL_MS } },
  });
  ({ key } = await context.newOrganization());
  api = client(context, key);
  agentId = (await api.createAgent({ name: 'Refresher' })).id;
});
afterAll(async () => {
  await context.close();
  await site.close();
});

const page = (edition: string) => ({
  '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nAllow: /\n' },
  '/daily': { body: htmlPage({ title: 'Daily', body: `Today's edition is about ${edition}. `.repeat(20) }) },
});

it('re-crawls a URL file once its index is older than the interval', async () => {
  site.routes(page('puffins'));
  const added = await api.post(`/api/v1/agent-files/${agentId}/urls`, { url: `${site.origin}/daily` });
  expect(added.status).toBe(200);
  const fileId: string = added.body.file_id;
  expect((await jobEnded(context, { key, agentId, jobId: added.body.job_id })).status).toBe('succeeded');
  site.routes(page('gannets'));
  // Read every 50 ms until a second job has appeared and ended (bounded by count, not time).
  let jobs: Record<string, any>[] = [];
  for (let attempt = 0; attempt < 2400; attempt += 1) {
    jobs = await queryRows(context, 'select id, status from jobs where subject_id = $1 order by created_at', [fileId]);
    if (jobs.length >= 2 && jobs.every((job) => job.status === 'succeeded')) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(jobs.length).toBeGreaterThanOrEqual(2);
  expect(jobs.every((job) => job.status === 'succeeded')).toBe(true);
  const texts = (await queryRows(context, 'select text from file_chunks where file_id = $1', [fileId])).map(
    (row) => row.text,
  );
  expect(texts.join(' ')).toContain('gannets');
  const file = await api.get(`/api/v1/agent-files/${agentId}/files/${fileId}`);
  expect(file.body).toMatchObject({ status: 'ready', job_id: jobs.at(-1)!.id });
});
