import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/models/model-port.js';
import { client, createTestContext, type Api, type TestContext } from '../helpers/harness.js';
import { registryWith, scriptedModel } from '../fixtures/scripted-model.js';
import {
  settledDeliveries,
  settledDelivery,
  startWebhookReceiver,
  verifiesWith,
  type ReceivedRequest,
} from '../helpers/webhook-receiver.js';

/**
 * Webhook deliveries over the real app, the real job queue and real loopback HTTP (docs/webhooks.md):
 * every delivery is checked with the `standardwebhooks` library, a Standard Webhooks
 * implementation we did not write. The receiver is on 127.0.0.1, which OUTBOUND_ALLOW lets the
 * guarded client reach, over http (WEBHOOK_ALLOW_HTTP).
 */

/** Real time moved by `offsetMs`: rotations are made "a day ago" to see their overlap end. */
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const failing = scriptedModel('scripted:webhook-failure', [
  [{ type: 'throw', error: new ModelError('provider_error', 'Upstream returned 500: overloaded') }],
]);

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext({
    clock,
    models: registryWith(failing),
    outboundAllow: '127.0.0.1',
    webhooks: { allowHttp: true, maxAttempts: 3, backoffMs: 10, backoffMaxMs: 40, timeoutMs: 2000 },
    jobs: { pollMs: 50 },
  });
});
afterAll(async () => {
  await context.close();
});

async function newEndpoint(api: Api, url: string, events: string[]) {
  const response = await api.post('/api/v1/webhooks', { url, events, description: 'test receiver' });
  expect(response.status).toBe(200);
  return response.body as { id: string; secret: string };
}

function payloadOf(request: ReceivedRequest): any {
  return JSON.parse(request.body);
}

describe('events', () => {
  it('delivers thread.created, run.completed, feedback.created and run.failed once each, signed; another organisation gets none', async () => {
    const receiver = await startWebhookReceiver();
    const other = await startWebhookReceiver();
    try {
      const api = client(context, (await context.newOrganization()).key);
      const otherApi = client(context, (await context.newOrganization()).key);
      const events = ['thread.created', 'run.completed', 'run.failed', 'feedback.created'];
      const endpoint = await newEndpoint(api, receiver.url, events);
      const otherEndpoint = await newEndpoint(otherApi, other.url, ['*']);

      const agent = await api.createAgent();
      const thread = await api.createThread(agent.id);
      const reply = await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
        content: 'hello',
        role: 'user',
      });
      expect(reply.status).toBe(200);
      const rating = await api.post('/api/v1/feedback/chat', {
        message_id: reply.body.id,
        source: 'chat',
        feedback_details: { feedback_type: 'positive', issue_type: null, comment: 'good' },
      });
      expect(rating.status).toBe(200);
      const failingAgent = await api.createAgent({ configuration: { model: failing.id } });
      const failingThread = await api.createThread(failingAgent.id);
      await api.post(`/api/v1/chat/${failingAgent.id}/threads/${failingThread.id}/messages`, {
        content: 'fail',
        role: 'user',
      });

      const deliveries = await settledDeliveries(context, { key: api.key, webhookId: endpoint.id, count: 5 });
      expect(deliveries.map((delivery) => [delivery.event_type, delivery.status, delivery.attempts])).toEqual([
        ['thread.created', 'delivered', 1],
        ['run.completed', 'delivered', 1],
        ['feedback.created', 'delivered', 1],
        ['thread.created', 'delivered', 1],
        ['run.failed', 'delivered', 1],
      ]);
      expect(receiver.received).toHaveLength(5);
      for (const [index, request] of receiver.received.entries()) {
        expect(verifiesWith(endpoint.secret, request)).toBe(true);
        expect(request.headers['webhook-id']).toBe(deliveries[index].id);
        expect(request.headers['content-type']).toBe('application/json');
        expect(payloadOf(request)).toEqual(deliveries[index].payload);
      }
      const [created, completed, feedback, , failed] = receiver.received.map(payloadOf);
      expect(created).toMatchObject({ type: 'thread.created', data: { id: thread.id, agent_id: agent.id } });
      expect(completed).toMatchObject({
        type: 'run.completed',
        data: {
          thread_id: thread.id,
          status: 'completed',
          message: { id: reply.body.id, content: reply.body.content },
        },
      });
      expect(feedback).toMatchObject({
        type: 'feedback.created',
        data: { target: 'message', feedback: { ai_message_id: reply.body.id, feedback_type: 'positive' } },
      });
      expect(failed).toMatchObject({
        type: 'run.failed',
        data: { status: 'failed', error: { code: 'model_error', message: 'Upstream returned 500: overloaded' } },
      });
      // The deliveries are made in the transactions of the events: the other organisation's log
      // was already complete (empty) when ours was written.
      expect((await otherApi.get(`/api/v1/webhooks/${otherEndpoint.id}/deliveries`)).body.deliveries).toEqual([]);
      expect(other.received).toEqual([]);
    } finally {
      await receiver.close();
      await other.close();
    }
  });

  it('delivers execution.* for a chat run’s execution to an execution.* subscription', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const api = client(context, (await context.newOrganization()).key);
      const endpoint = await newEndpoint(api, receiver.url, ['execution.*']);
      const agent = await api.createAgent();
      const thread = await api.createThread(agent.id);
      await api.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, { content: 'hello', role: 'user' });
      const [delivery] = await settledDeliveries(context, { key: api.key, webhookId: endpoint.id, count: 1 });
      const executions = await api.get(`/api/v1/flows/executions?agent_id=${agent.id}`);
      expect(delivery).toMatchObject({
        event_type: 'execution.completed',
        status: 'delivered',
        payload: {
          type: 'execution.completed',
          data: { execution_id: executions.body.executions[0].id, status: 'completed' },
        },
      });
      expect(receiver.received).toHaveLength(1);
      expect(verifiesWith(endpoint.secret, receiver.received[0]!)).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe('flow executions', () => {
  it('delivers execution.completed when a flow’s execution ends, execution.cancelled when one is cancelled, execution.failed when a PATCH ends one', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const api = client(context, (await context.newOrganization()).key);
      const endpoint = await newEndpoint(api, receiver.url, ['execution.*']);
      const agent = await api.createAgent();
      const flow = await api.post(`/api/v1/agents/${agent.id}/flows`, { name: 'digest', instructions: 'Say hello.' });
      expect(flow.status).toBe(200);
      const later = await api.post('/api/v1/flows/execute', {
        flow_id: flow.body.id,
        trigger_type: 'api',
        scheduled_at: '2099-01-01T00:00:00Z',
      });
      expect(later.body.execution.status).toBe('pending');
      expect((await api.post(`/api/v1/flows/executions/${later.body.execution.id}/cancel`, {})).status).toBe(200);
      const now = await api.post('/api/v1/flows/execute', { flow_id: flow.body.id, trigger_type: 'api' });
      expect(now.status).toBe(200);
      // Ended by PATCH (an external system reporting the outcome): it publishes like any end.
      const patched = await api.post('/api/v1/flows/execute', {
        flow_id: flow.body.id,
        trigger_type: 'api',
        scheduled_at: '2099-01-01T00:00:00Z',
      });
      const failed = await api.patch(`/api/v1/flows/executions/${patched.body.execution.id}`, {
        status: 'failed',
        error_message: 'reported by the caller',
      });
      expect(failed.status).toBe(200);
      const unchanged = await api.patch(`/api/v1/flows/executions/${patched.body.execution.id}`, {
        metadata: { note: 'a later edit of an ended execution publishes nothing' },
      });
      expect(unchanged.status).toBe(200);

      const deliveries = await settledDeliveries(context, { key: api.key, webhookId: endpoint.id, count: 3 });
      const byType = new Map(deliveries.map((delivery) => [delivery.event_type, delivery]));
      expect([...byType.keys()].sort()).toEqual(['execution.cancelled', 'execution.completed', 'execution.failed']);
      expect(byType.get('execution.failed')).toMatchObject({
        status: 'delivered',
        payload: {
          data: { execution_id: patched.body.execution.id, status: 'failed', error_message: 'reported by the caller' },
        },
      });
      expect(byType.get('execution.cancelled')).toMatchObject({
        status: 'delivered',
        payload: { data: { execution_id: later.body.execution.id, flow_id: flow.body.id, status: 'cancelled' } },
      });
      expect(byType.get('execution.completed')).toMatchObject({
        status: 'delivered',
        payload: { data: { execution_id: now.body.execution.id, flow_id: flow.body.id, status: 'completed' } },
      });
      expect(receiver.received).toHaveLength(3);
      for (const request of receiver.received) expect(verifiesWith(endpoint.secret, request)).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe('retries', () => {
  it('retries a 500 and records both attempts with their codes; the webhook-id stays the same', async () => {
    const receiver = await startWebhookReceiver([500]);
    try {
      const api = client(context, (await context.newOrganization()).key);
      const endpoint = await newEndpoint(api, receiver.url, ['thread.created']);
      const agent = await api.createAgent();
      await api.createThread(agent.id);
      const [delivery] = await settledDeliveries(context, { key: api.key, webhookId: endpoint.id, count: 1 });
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, last_status_code: 200, last_error: null });
      expect(delivery.attempt_log.map((attempt: any) => [attempt.attempt, attempt.status_code, attempt.error])).toEqual(
        [
          [1, 500, 'the receiver answered 500'],
          [2, 200, null],
        ],
      );
      expect(receiver.received.map((request) => request.headers['webhook-id'])).toEqual([delivery.id, delivery.id]);
      expect(receiver.received.every((request) => verifiesWith(endpoint.secret, request))).toBe(true);
      expect(receiver.received[0]!.body).toBe(receiver.received[1]!.body);
    } finally {
      await receiver.close();
    }
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS on a receiver that is down, with the reason', async () => {
    const receiver = await startWebhookReceiver();
    const url = receiver.url;
    await receiver.close();
    const api = client(context, (await context.newOrganization()).key);
    const endpoint = await newEndpoint(api, url, ['thread.created']);
    const agent = await api.createAgent();
    await api.createThread(agent.id);
    const [delivery] = await settledDeliveries(context, { key: api.key, webhookId: endpoint.id, count: 1 });
    expect(delivery).toMatchObject({
      status: 'failed',
      attempts: 3,
      last_status_code: null,
      last_error: 'outbound_failed: connect',
      delivered_at: null,
    });
    expect(delivery.attempt_log.map((attempt: any) => [attempt.attempt, attempt.status_code, attempt.error])).toEqual([
      [1, null, 'outbound_failed: connect'],
      [2, null, 'outbound_failed: connect'],
      [3, null, 'outbound_failed: connect'],
    ]);
    const failedOnly = await api.get(`/api/v1/webhooks/${endpoint.id}/deliveries?status=failed`);
    expect(failedOnly.body.deliveries.map((item: any) => item.id)).toEqual([delivery.id]);
    expect((await api.get(`/api/v1/webhooks/${endpoint.id}/deliveries?status=delivered`)).body.deliveries).toEqual([]);
  });
});

describe('test deliveries and secret rotation', () => {
  it('sends webhook.test through the queue and returns it pending', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const api = client(context, (await context.newOrganization()).key);
      const endpoint = await newEndpoint(api, receiver.url, ['run.failed']);
      const test = await api.post(`/api/v1/webhooks/${endpoint.id}/test`, {});
      expect(test.status).toBe(200);
      expect(test.body).toMatchObject({
        webhook_id: endpoint.id,
        event_type: 'webhook.test',
        status: 'pending',
        attempts: 0,
        attempt_log: [],
      });
      const delivered = await settledDelivery(context, {
        key: api.key,
        webhookId: endpoint.id,
        deliveryId: test.body.id,
      });
      expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });
      expect(receiver.received).toHaveLength(1);
      expect(payloadOf(receiver.received[0]!)).toMatchObject({
        type: 'webhook.test',
        data: { webhook_id: endpoint.id },
      });
      expect(verifiesWith(endpoint.secret, receiver.received[0]!)).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('signs with both secrets during the overlap after a rotation, and with the new one only after it', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const api = client(context, (await context.newOrganization()).key);
      const endpoint = await newEndpoint(api, receiver.url, ['thread.created']);
      const send = async () => {
        const test = await api.post(`/api/v1/webhooks/${endpoint.id}/test`, {});
        await settledDelivery(context, { key: api.key, webhookId: endpoint.id, deliveryId: test.body.id });
        return receiver.received.at(-1)!;
      };

      // Rotated "25 hours ago": the 24-hour overlap is over by now.
      offsetMs = -25 * 3_600_000;
      const first = await api.post(`/api/v1/webhooks/${endpoint.id}/rotate-secret`, {});
      offsetMs = 0;
      expect(first.status).toBe(200);
      expect(first.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Date.parse(first.body.previous_secret_expires_at)).toBeLessThan(Date.now());
      const afterOverlap = await send();
      expect(afterOverlap.headers['webhook-signature']!.split(' ')).toHaveLength(1);
      expect(verifiesWith(first.body.secret, afterOverlap)).toBe(true);
      expect(verifiesWith(endpoint.secret, afterOverlap)).toBe(false);

      const second = await api.post(`/api/v1/webhooks/${endpoint.id}/rotate-secret`, {});
      expect(Date.parse(second.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3_600_000);
      const duringOverlap = await send();
      expect(duringOverlap.headers['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(verifiesWith(second.body.secret, duringOverlap)).toBe(true);
      expect(verifiesWith(first.body.secret, duringOverlap)).toBe(true);
      expect(verifiesWith(endpoint.secret, duringOverlap)).toBe(false);
      const shown = await api.get(`/api/v1/webhooks/${endpoint.id}`);
      expect(shown.body.previous_secret_expires_at).toBe(second.body.previous_secret_expires_at);
      expect(shown.raw).not.toContain('whsec_');
      // No secret in the server's logs (deliveries, retries and rotations were all logged at debug).
      const logs = context.logs.join('\n');
      for (const secret of [endpoint.secret, first.body.secret, second.body.secret]) {
        expect(logs).not.toContain(secret.slice('whsec_'.length));
      }
    } finally {
      offsetMs = 0;
      await receiver.close();
    }
  });
});
