import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type Response, type TestContext } from '../helpers/harness.js';
import {
  bareRequest,
  createTwoOrganizations,
  dumpDatabase,
  expectedError,
  loopbackPort,
  outcome,
  rawRequest,
  specOf,
  urlOf,
  type Ids,
  type Objects,
  type Operation,
} from '../helpers/routes.js';
import { seedMessage } from '../helpers/harness.js';
import { createWidgetKey, startSession } from '../helpers/widget.js';

/**
 * The widget isolation matrix (issue 12, part B), generated from the OpenAPI document: two
 * visitors × two agents × two organisations, each visitor calling every operation. A visitor
 * reaches the visitor routes of their own agent for their own threads only — another visitor's
 * thread is 404 `thread_not_found`, another agent's or organisation's path 404 `agent_not_found`
 * — and every other operation is 403 `insufficient_scope`, changing nothing.
 */

const SHOP = 'https://shop.example';
/** The reviewed list of operations a visitor token opens; a route that starts admitting visitors fails here. */
const VISITOR_OPERATIONS = [
  'GET /api/v1/chat/{agent_id}/threads',
  'POST /api/v1/chat/{agent_id}/threads',
  'GET /api/v1/chat/{agent_id}/threads/{thread_id}',
  'GET /api/v1/chat/{agent_id}/threads/{thread_id}/messages',
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages',
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream',
  'GET /api/v1/chat/{agent_id}/threads/{thread_id}/stream',
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/cancel',
  'POST /api/v1/feedback/chat',
  'POST /api/v1/widget/identify',
];
const FEEDBACK = 'POST /api/v1/feedback/chat';

/** What a visitor sends to the routes they may call. */
const VISITOR_BODIES: Record<string, (ids: Ids) => unknown> = {
  'POST /api/v1/chat/{agent_id}/threads': (ids) => ({ agent_id: ids.agent_id, title: 'Visitor thread', metadata: {} }),
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages': () => ({
    role: 'user',
    content: 'Hello from a visitor',
  }),
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream': () => ({ role: 'user', content: 'Stream it' }),
  'POST /api/v1/widget/identify': () => ({ user_id: 'visitor', user_hash: '0'.repeat(64) }),
  [FEEDBACK]: (ids) => ({
    message_id: (ids as Ids & { answer_id: string }).answer_id,
    source: 'chat',
    feedback_details: { feedback_type: 'positive' },
  }),
};

interface Visitor {
  label: string;
  organization: 'A' | 'B';
  agentId: string;
  anonymousUserId: string;
  token: string;
  threadId: string;
  /** An answer in the visitor's thread, to rate. */
  answerId: string;
}

let context: TestContext;
let operations: Operation[];
let objects: Record<'A' | 'B', Objects>;
let visitors: Visitor[];
let staffThreads: { organization: 'A' | 'B'; agentId: string; threadId: string; answerId: string }[];

beforeAll(async () => {
  context = await createTestContext({
    authFailureLimitPerMinute: 0,
    widget: { visitorRequestsPerMinute: 100_000, visitorRequestsPerMinutePerIp: 100_000, sessionsPerMinutePerIp: 1000 },
  });
  const two = await createTwoOrganizations(context);
  operations = two.operations;
  objects = { A: two.a, B: two.b };
  visitors = [];
  staffThreads = [];
  for (const [organization, api, own] of [
    ['A', two.apiA, two.a],
    ['B', two.apiB, two.b],
  ] as const) {
    const secondAgent = (await api.createAgent({ name: `${organization} second agent` })).id;
    staffThreads.push({ organization, agentId: own.agent_id, threadId: own.thread_id, answerId: own.answer_id });
    for (const [agentIndex, agentId] of [own.agent_id, secondAgent].entries()) {
      const key = await createWidgetKey(api, agentId, [SHOP]);
      for (const visitorIndex of [1, 2]) {
        const session = await startSession(context, { widgetKey: key.publishable_key, origin: SHOP });
        const label = `${organization}/agent${agentIndex + 1}/visitor${visitorIndex}`;
        const thread = await bareRequest(context, 'POST', `/api/v1/chat/${agentId}/threads`, {
          headers: { authorization: `Bearer ${session.token}`, origin: SHOP },
          body: { agent_id: agentId, title: `${label} thread`, metadata: {} },
        });
        if (thread.status !== 200) throw new Error(`visitor thread: ${thread.status} ${thread.raw}`);
        const answerId = await seedMessage(context, {
          organizationId: own === two.a ? two.orgA.organizationId : two.orgB.organizationId,
          threadId: thread.body.id,
          role: 'assistant',
          content: `${label} answer`,
        });
        visitors.push({
          answerId,
          label,
          organization,
          agentId,
          anonymousUserId: session.anon_user_id,
          token: session.token,
          threadId: thread.body.id,
        });
      }
    }
  }
}, 300_000);
afterAll(() => context.close());

function isVisitorOperation(operation: Operation, spec: any): boolean {
  const security = spec.paths[operation.path][operation.method.toLowerCase()].security as unknown[] | undefined;
  return (security ?? []).some((requirement) => Object.keys(requirement as object).includes('VisitorToken'));
}

async function callAs(visitor: Visitor, operation: Operation, ids: Partial<Ids>): Promise<Response> {
  const headers = { authorization: `Bearer ${visitor.token}`, origin: SHOP };
  const bodyOf = VISITOR_BODIES[operation.name] ?? (operation.hasBody ? specOf(operation).body : undefined);
  const body = bodyOf?.(ids as Ids);
  const spec = specOf(operation);
  const contentType: Record<string, string> =
    spec.contentType && !VISITOR_BODIES[operation.name] ? { 'content-type': spec.contentType } : {};
  const url = urlOf(operation, ids);
  if (spec.stream)
    return rawRequest(await loopbackPort(context), operation.method, url, { ...headers, ...contentType }, body);
  return bareRequest(context, operation.method, url, { headers: { ...headers, ...contentType }, body });
}

describe('the widget isolation matrix', () => {
  it('opens exactly the reviewed visitor operations in the OpenAPI document', async () => {
    const spec = (await bareRequest(context, 'GET', '/openapi.json')).body;
    const open = operations.filter((operation) => isVisitorOperation(operation, spec));
    expect(open.map((operation) => operation.name).sort()).toEqual([...VISITOR_OPERATIONS].sort());
  });

  it('gives every visitor 404 on every thread and agent not their own, 403 on every other operation, and changes nothing', async () => {
    const spec = (await bareRequest(context, 'GET', '/openapi.json')).body;
    const before = await dumpDatabase(context);
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    const visitorOperations = operations.filter((operation) => isVisitorOperation(operation, spec));
    const closedOperations = operations.filter(
      (operation) => !operation.public && !isVisitorOperation(operation, spec),
    );
    expect(closedOperations.length).toBeGreaterThan(40);
    const targets = [
      ...visitors.map((owner) => ({ ...owner, owner })),
      ...staffThreads.map((staff) => ({ label: `${staff.organization}/staff`, ...staff, owner: null })),
    ];
    for (const visitor of visitors) {
      for (const operation of visitorOperations) {
        if (operation.name === FEEDBACK) {
          // The rated answer is in the body: every answer not in the visitor's own thread is unknown to them.
          for (const target of targets.filter((candidate) => candidate.owner !== visitor)) {
            const name = `${visitor.label} → ${operation.name} on ${target.label}`;
            const response = await callAs(visitor, operation, {
              ...objects[visitor.organization],
              answer_id: target.answerId,
            } as Partial<Ids>);
            actual.push(outcome(name, response));
            expected.push(expectedError(name, response, 404, 'message_not_found'));
          }
          continue;
        }
        if (!operation.pathParams.includes('agent_id')) continue;
        for (const target of targets) {
          // The visitor's own thread, and creating in or listing their own agent, are the allowed cases below.
          if (target.owner === visitor) continue;
          const sameAgent = target.agentId === visitor.agentId;
          if (!operation.pathParams.includes('thread_id') && sameAgent) continue;
          const name = `${visitor.label} → ${operation.name} on ${target.label}`;
          const ids = { ...objects[visitor.organization], agent_id: target.agentId, thread_id: target.threadId };
          const response = await callAs(visitor, operation, ids);
          actual.push(outcome(name, response));
          expected.push(expectedError(name, response, 404, sameAgent ? 'thread_not_found' : 'agent_not_found'));
        }
      }
      for (const operation of closedOperations) {
        for (const organization of ['A', 'B'] as const) {
          const name = `${visitor.label} → ${operation.name} with ${organization}'s ids`;
          const response = await callAs(visitor, operation, objects[organization]);
          actual.push(outcome(name, response));
          expected.push(expectedError(name, response, 403, 'insufficient_scope'));
        }
      }
    }
    expect(actual).toEqual(expected);
    expect(actual.length).toBeGreaterThan(1000);
    expect(await dumpDatabase(context)).toEqual(before);
  }, 600_000);

  it('lets every visitor use the visitor operations on their own threads, and lists only those', async () => {
    const spec = (await bareRequest(context, 'GET', '/openapi.json')).body;
    const visitorOperations = operations.filter((operation) => isVisitorOperation(operation, spec));
    const owner: Record<string, number> = {
      'POST /api/v1/widget/identify': 403,
      // The run in the path is another thread's (the staff thread's): unknown in this one.
      'POST /api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/cancel': 404,
    };
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    for (const visitor of visitors) {
      const ids = {
        ...objects[visitor.organization],
        agent_id: visitor.agentId,
        thread_id: visitor.threadId,
        answer_id: visitor.answerId,
      };
      for (const operation of visitorOperations) {
        const response = await callAs(visitor, operation, ids);
        actual.push({ route: `${visitor.label} → ${operation.name}`, status: response.status });
        expected.push({ route: `${visitor.label} → ${operation.name}`, status: owner[operation.name] ?? 200 });
        if (operation.name === 'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream') {
          // The stream was dropped at its headers; its run goes on. Wait for it before the next post.
          await waitForIdleThread(visitor);
        }
      }
      const listed = await bareRequest(context, 'GET', `/api/v1/chat/${visitor.agentId}/threads?limit=100`, {
        headers: { authorization: `Bearer ${visitor.token}`, origin: SHOP },
      });
      const owners = new Set((listed.body as { anon_user_id: string }[]).map((thread) => thread.anon_user_id));
      actual.push({ route: `${visitor.label} lists`, owners: [...owners] });
      expected.push({ route: `${visitor.label} lists`, owners: [visitor.anonymousUserId] });
    }
    expect(actual).toEqual(expected);
  }, 600_000);
});

/** Until the visitor's thread has no active run (read by the organisation's staff key, whose view is not limited). */
async function waitForIdleThread(visitor: Visitor): Promise<void> {
  const staffKey = (visitor.organization === 'A' ? objects.A : objects.B).key;
  const api = client(context, staffKey);
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const messages = await api.get(`/api/v1/chat/${visitor.agentId}/threads/${visitor.threadId}/messages?limit=100`);
    const roles = (messages.body as { role: string }[]).map((message) => message.role);
    if (roles.filter((role) => role === 'assistant').length >= roles.filter((role) => role === 'user').length) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${visitor.label}: the streamed run did not end`);
}
