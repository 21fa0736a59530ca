import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

/**
 * Paging parameters have maxima (issue 7, M2): `offset=1e20` was a 500 on both backends (SQL
 * integers overflow); now it is a 422 naming the parameter, and the largest accepted value works.
 */

let context: TestContext;
let api: ReturnType<typeof client>;
let agentId: string;
let threadId: string;
beforeAll(async () => {
  context = await createTestContext();
  const organization = await context.newOrganization();
  api = client(context, organization.key);
  agentId = (await api.createAgent()).id;
  threadId = (await api.createThread(agentId)).id;
});
afterAll(async () => {
  await context?.close();
});

describe('paging bounds', () => {
  const lists = () => [
    { url: '/api/v1/agents', name: 'offset', empty: [] as unknown },
    { url: `/api/v1/chat/${agentId}/threads`, name: 'offset', empty: [] as unknown },
    { url: `/api/v1/chat/${agentId}/threads/${threadId}/messages`, name: 'offset', empty: [] as unknown },
  ];

  it('refuses an offset past the maximum with a 422 at ["query","offset"], on every list', async () => {
    for (const list of lists()) {
      for (const value of ['1e20', '1000000001', '99999999999999999999']) {
        const response = await api.request('GET', `${list.url}?offset=${value}`);
        expect(response.status, `${list.url}?offset=${value}`).toBe(422);
        expect(response.body.detail).toEqual([
          {
            loc: ['query', 'offset'],
            msg: 'Input should be less than or equal to 1000000000',
            type: 'less_than_equal',
          },
        ]);
      }
      const deepest = await api.request('GET', `${list.url}?offset=1000000000`);
      expect(deepest.status).toBe(200);
      expect(deepest.body).toEqual(list.empty);
    }
  });

  it('refuses an executions page past the maximum, and answers the deepest page', async () => {
    const refused = await api.request('GET', '/api/v1/flows/executions?page=1e20');
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toEqual([
      { loc: ['query', 'page'], msg: 'Input should be less than or equal to 10000000', type: 'less_than_equal' },
    ]);
    const deepest = await api.request('GET', '/api/v1/flows/executions?page=10000000&page_size=100');
    expect(deepest.status).toBe(200);
    expect(deepest.body).toEqual({ executions: [], total_count: 0, page: 10000000, page_size: 100, has_more: false });
  });
});
