import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestContext, type TestContext, type TestOrganization } from '../helpers/harness.js';
import type { Api } from '../helpers/harness.js';
import {
  allowFor,
  call,
  createObjects,
  dumpDatabase,
  expectedError,
  loadOperations,
  needsRun,
  operationSpecProblems,
  outcome,
  requestIdOf,
  specOf,
  urlOf,
  type Objects,
  type Operation,
} from '../helpers/routes.js';

/**
 * T4 (reliability.md): scopes and method switching. `admin` includes `write`, which includes
 * `read`; key management needs `admin`. Every operation comes from the OpenAPI document.
 */

let context: TestContext;
let operations: Operation[];
let org: TestOrganization;
let admin: Api;
let objects: Objects;

beforeAll(async () => {
  context = await createTestContext();
  operations = await loadOperations(context);
  org = await context.newOrganization();
  admin = client(context, org.key);
  objects = await createObjects(context, admin, org.organizationId, 'scopes');
});
afterAll(async () => {
  await context.close();
});

/** Operations only an `admin` key may call: API and widget key management, webhooks, and setting the quota. */
const needsAdmin = (operation: Operation) =>
  operation.path.startsWith('/api/v1/api-keys') ||
  operation.path.startsWith('/api/v1/widget-keys') ||
  operation.path.startsWith('/api/v1/webhooks') ||
  operation.name === 'PUT /api/v1/quota';

describe('scopes (BFLA)', () => {
  it('covers every operation of the OpenAPI document', () => {
    expect(operationSpecProblems(operations)).toEqual([]);
  });

  it('gives a read-only key 403 insufficient_scope on every non-GET operation (but those that only read) and the admin ones, and writes nothing', async () => {
    const read = await org.keyWith(['read']);
    const databaseBefore = await dumpDatabase(context);
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    const writes = operations.filter((operation) => operation.method !== 'GET');
    expect(writes.length).toBeGreaterThanOrEqual(9);
    for (const operation of operations.filter((candidate) => !candidate.public)) {
      const response = await call(context, read, operation, objects);
      const reads = operation.method === 'GET' || specOf(operation).readOnly === true;
      if (reads && !needsAdmin(operation)) {
        actual.push({ route: operation.name, status: response.status });
        expected.push({ route: operation.name, status: specOf(operation).owner });
      } else {
        actual.push(outcome(operation.name, response));
        expected.push(expectedError(operation.name, response, 403, 'insufficient_scope'));
      }
    }
    expect(actual).toEqual(expected);
    expect(await dumpDatabase(context)).toEqual(databaseBefore);
  });

  it('gives a read+write key 403 insufficient_scope on every admin operation (API and widget keys, webhooks, the quota), and writes nothing', async () => {
    const readWrite = await org.keyWith(['read', 'write']);
    const databaseBefore = await dumpDatabase(context);
    const keyOperations = operations.filter(needsAdmin);
    expect(keyOperations.map((operation) => operation.name).sort()).toEqual([
      'DELETE /api/v1/api-keys/{key_id}',
      'DELETE /api/v1/webhooks/{webhook_id}',
      'DELETE /api/v1/widget-keys/{widget_key_id}',
      'GET /api/v1/api-keys',
      'GET /api/v1/api-keys/{key_id}',
      'GET /api/v1/webhooks',
      'GET /api/v1/webhooks/{webhook_id}',
      'GET /api/v1/webhooks/{webhook_id}/deliveries',
      'GET /api/v1/widget-keys',
      'GET /api/v1/widget-keys/{widget_key_id}',
      'PATCH /api/v1/webhooks/{webhook_id}',
      'POST /api/v1/api-keys',
      'POST /api/v1/webhooks',
      'POST /api/v1/webhooks/{webhook_id}/rotate-secret',
      'POST /api/v1/webhooks/{webhook_id}/test',
      'POST /api/v1/widget-keys',
      'PUT /api/v1/quota',
    ]);
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    for (const operation of keyOperations) {
      const response = await call(context, readWrite, operation, objects);
      actual.push(outcome(operation.name, response));
      expected.push(expectedError(operation.name, response, 403, 'insufficient_scope'));
    }
    expect(actual).toEqual(expected);
    expect(await dumpDatabase(context)).toEqual(databaseBefore);
    // The key the requests aimed at still works.
    expect((await client(context, objects.key).get('/api/v1/agents')).status).toBe(200);
  });

  it('lets a read+write key run every other operation (the 403s above are about scope, not the request)', async () => {
    const readWrite = await org.keyWith(['read', 'write']);
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    for (const operation of operations.filter((candidate) => !needsAdmin(candidate))) {
      const fresh = await createObjects(context, admin, org.organizationId, 'scope-control', {
        run: needsRun(operation),
      });
      const response = await call(context, readWrite, operation, fresh);
      actual.push({ route: operation.name, status: response.status });
      expected.push({ route: operation.name, status: specOf(operation).owner });
    }
    expect(actual).toEqual(expected);
  });
});

describe('method switching', () => {
  it('answers 405 with an exact Allow header for every method a path does not register, never 2xx', async () => {
    const databaseBefore = await dumpDatabase(context);
    const paths = [...new Set(operations.map((operation) => operation.path))];
    const actual: unknown[] = [];
    const expected: unknown[] = [];
    for (const path of paths) {
      const registered = allowFor(operations, path);
      const sample = operations.find((operation) => operation.path === path)!;
      const url = urlOf(sample, objects);
      // A literal segment beside a parameter (`tools/import-openapi` next to `tools/{tool_id}`) is
      // also that parameter's path: the methods the parameter route has are answered there.
      const alsoServed = operations
        .filter((operation) => operation.path !== path && matchesTemplate(operation.path, path))
        .map((operation) => operation.method.toUpperCase());
      if (alsoServed.includes('GET')) alsoServed.push('HEAD');
      const allow = [...new Set([...registered.split(', '), ...alsoServed])].sort().join(', ');
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        if (allow.split(', ').includes(method)) continue;
        const body = ['POST', 'PUT', 'PATCH'].includes(method) ? { name: 'switched' } : undefined;
        const response = await admin.request(method, url, body);
        const label = `${method} ${path}`;
        if (method === 'HEAD') {
          // A HEAD answer has no body; its status and headers must still say 405.
          actual.push({ route: label, status: response.status, allow: response.headers.allow });
          expected.push({ route: label, status: 405, allow });
          continue;
        }
        actual.push({ ...outcome(label, response), allow: response.headers.allow });
        expected.push({ ...expectedError(label, response, 405, 'method_not_allowed'), allow });
        requestIdOf(response);
      }
    }
    // Today: 11 paths × 7 methods, minus the 29 registered (GET implies HEAD).
    expect(actual.length).toBeGreaterThanOrEqual(48);
    expect(actual).toEqual(expected);
    expect(await dumpDatabase(context)).toEqual(databaseBefore);
  });
});

/** Whether the literal `path` is one the templated `template` (`/a/{id}`) also matches. */
function matchesTemplate(template: string, path: string): boolean {
  const templateParts = template.split('/');
  const pathParts = path.split('/');
  return (
    templateParts.length === pathParts.length &&
    templateParts.every(
      (part, index) => part === pathParts[index] || (part.startsWith('{') && !pathParts[index]!.startsWith('{')),
    )
  );
}
