import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LazySchemas } from '../../src/http/lazy-schemas.js';
import { validatorCompilerBuilder } from '../../src/http/validation.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

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

  it('compiles every schema of the whole app when warmed, so none can fail only in production', async () => {
    await expect(context.parley.warmSchemas()).resolves.toBeUndefined();
    const organization = await context.newOrganization();
    const response = await client(context, organization.key).get('/api/v1/agents');
    expect(response.status).toBe(200);
  });

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
});
