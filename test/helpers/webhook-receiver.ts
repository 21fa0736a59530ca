import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { injectRequest, type TestContext } from './harness.js';

/** One request the receiver got: its headers and the exact body bytes (as text). */
export interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
  status: number;
}

/**
 * A real loopback HTTP receiver for webhook tests. It answers each request with the next status
 * of `answers` (200 once they run out) and keeps every request as received.
 */
export async function startWebhookReceiver(answers: number[] = []) {
  const received: ReceivedRequest[] = [];
  const queue = [...answers];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = queue.shift() ?? 200;
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : (value ?? ''),
        ]),
      );
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8'), status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    /** Answers the next requests with these statuses. */
    answer: (...statuses: number[]) => void queue.push(...statuses),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Whether the standardwebhooks library accepts the request as signed with `secret`. */
export function verifiesWith(secret: string, request: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads an endpoint's delivery log (newest first) through the API, every 25 ms, until `settled`
 * returns something; throws after `attempts` reads, saying `what` was awaited.
 */
async function untilDeliveries<T>(
  context: TestContext,
  input: { key: string; webhookId: string; attempts?: number | undefined; what: string },
  settled: (deliveries: any[]) => T | undefined,
): Promise<T> {
  const attempts = input.attempts ?? 1200;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const page = await injectRequest(context, {
      method: 'GET',
      url: `/api/v1/webhooks/${input.webhookId}/deliveries?limit=100`,
      headers: { 'x-api-key': input.key },
    });
    if (page.status !== 200) throw new Error(`GET deliveries: ${page.status} ${page.raw}`);
    const found = settled(page.body.deliveries);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${input.what} after ${attempts} reads`);
}

/** Reads a delivery through the API until it is no longer pending (or `attempts` reads pass). */
export async function settledDelivery(
  context: TestContext,
  input: { key: string; webhookId: string; deliveryId: string; attempts?: number },
): Promise<any> {
  return untilDeliveries(context, { ...input, what: `delivery ${input.deliveryId} still pending` }, (deliveries) => {
    const delivery = deliveries.find((candidate) => candidate.id === input.deliveryId);
    return delivery && delivery.status !== 'pending' ? delivery : undefined;
  });
}

/** Reads an endpoint's log until it holds `count` deliveries, none pending; returns them, oldest first. */
export async function settledDeliveries(
  context: TestContext,
  input: { key: string; webhookId: string; count: number; attempts?: number },
): Promise<any[]> {
  const what = `fewer than ${input.count} settled deliveries`;
  return untilDeliveries(context, { ...input, what }, (deliveries) =>
    deliveries.length >= input.count && deliveries.every((delivery) => delivery.status !== 'pending')
      ? [...deliveries].reverse()
      : undefined,
  );
}
