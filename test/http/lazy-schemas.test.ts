import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LazySchemas } from '../../src/http/lazy-schemas.js';
import { validatorCompilerBuilder } from '../../src/http/validation.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

/** Compiling every schema of the whole app took 13–39 s of wall time at load average 20 (about 1 s idle). */
const WHOLE_APP_WARM_UP_MS = 120_000;

function lazyApp(schemas: LazySchemas) {
  return Fastify({
    schemaController: {
      compilersFactory: {
        buildValidator: schemas.validators(validatorCompilerBuilder()) as never,
        buildSerializer: schemas.serializers() as never,
      },
    },
  });
}

describe('route schemas compiled on first use', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestContext();
  });
  afterAll(async () => context.close());

  it(
    'compiles every schema of the whole app when warmed, so none can fail only in production',
    async () => {
      await expect(context.parley.warmSchemas()).resolves.toBeUndefined();
      const organization = await context.newOrganization();
      const response = await client(context, organization.key).get('/api/v1/agents');
      expect(response.status).toBe(200);
    },
    WHOLE_APP_WARM_UP_MS,
  );

  it('validates, coerces, fills defaults and serialises as the compiled functions do', async () => {
    const schemas = new LazySchemas();
    const app = lazyApp(schemas);
    app.addSchema({ $id: 'Item', type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] });
    app.post('/items', {
      schema: {
        body: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
        querystring: { type: 'object', properties: { page: { type: 'integer', default: 1 } } },
        response: { 200: { $ref: 'Item#' } },
      },
      handler: async (request) => ({
        n: (request.body as { n: number }).n + (request.query as { page: number }).page,
        secret: 'x',
      }),
    });
    const ok = await app.inject({ method: 'POST', url: '/items?page=2', payload: { n: 1 } });
    expect(ok.statusCode).toBe(200);
    // The response schema drops what it does not name; the query's "2" was coerced.
    expect(ok.json()).toEqual({ n: 3 });
    const defaulted = await app.inject({ method: 'POST', url: '/items', payload: { n: 1 } });
    expect(defaulted.json()).toEqual({ n: 2 });
    const refused = await app.inject({ method: 'POST', url: '/items', payload: { n: 'one' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().message).toBe('body/n must be integer');
    await app.close();
  });

  it('says which schema does not compile, on first use and when warmed', async () => {
    const schemas = new LazySchemas();
    const app = lazyApp(schemas);
    app.get('/broken', {
      schema: { querystring: { type: 'object', properties: { a: { $ref: 'Missing#' } } } },
      handler: async () => ({}),
    });
    await app.ready();
    await expect(schemas.warm()).rejects.toThrow(/Missing/);
    const response = await app.inject({ method: 'GET', url: '/broken' });
    expect(response.statusCode).toBe(500);
    await app.close();
  });

  it(
    'keeps /readyz at 503 until the warm-up has compiled every schema, then answers ready',
    async () => {
      const other = await createTestContext();
      try {
        const inject = () => other.parley.app.inject({ method: 'GET', url: '/readyz' });
        // Never warmed (as under `inject` in tests): ready.
        expect((await inject()).statusCode).toBe(200);
        // `parley serve` warms after listen; hundreds of schemas, one per event-loop turn.
        const warming = other.parley.warmSchemas();
        const during = await inject();
        expect(during.statusCode).toBe(503);
        expect(during.json()).toEqual({
          detail: 'The server is still compiling its route schemas.',
          code: 'service_unavailable',
          request_id: during.headers['x-request-id'],
        });
        // A liveness probe still passes meanwhile: the process is alive, only not ready.
        expect((await other.parley.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
        await warming;
        const after = await inject();
        expect(after.statusCode).toBe(200);
        expect(after.json()).toEqual({ status: 'ready' });
      } finally {
        await other.close();
      }
    },
    WHOLE_APP_WARM_UP_MS,
  );

  it('is warming up from the call of warm() until it settles, also when a schema fails', async () => {
    const schemas = new LazySchemas();
    const app = lazyApp(schemas);
    // Compiled first (one per turn): the warm-up is still going after the call returns.
    app.get('/fine', {
      schema: { querystring: { type: 'object', properties: { a: { type: 'string' } } } },
      handler: async () => ({}),
    });
    app.get('/broken', {
      schema: { querystring: { type: 'object', properties: { a: { $ref: 'Missing#' } } } },
      handler: async () => ({}),
    });
    await app.ready();
    expect(schemas.warmingUp).toBe(false);
    const warming = schemas.warm();
    expect(schemas.warmingUp).toBe(true);
    await expect(warming).rejects.toThrow(/Missing/);
    expect(schemas.warmingUp).toBe(false);
    await app.close();
  });
});
