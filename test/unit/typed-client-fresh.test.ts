import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript script (scripts/typed-client.js), shared with `npm run client:generate`.
import { renderClientSchema } from '../../scripts/typed-client.js';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { loadSpec } from '../helpers/routes.js';

/**
 * The committed typed client (clients/typescript/schema.d.ts) is what the server's OpenAPI
 * document generates today: a route or schema change without `npm run client:generate` fails here.
 */

const COMMITTED = new URL('../../clients/typescript/schema.d.ts', import.meta.url);

let context: TestContext;
let directory: string;
beforeAll(async () => {
  context = await createTestContext();
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-client-'));
});
afterAll(async () => {
  await context.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

describe('typed client', () => {
  it('regenerates, from the served /openapi.json, exactly the committed schema.d.ts', async () => {
    const fresh = path.join(directory, 'schema.d.ts');
    fs.writeFileSync(fresh, (await renderClientSchema(await loadSpec(context))) as string);
    const committed = fs.readFileSync(COMMITTED, 'utf8');
    const regenerated = fs.readFileSync(fresh, 'utf8');
    expect(regenerated.length).toBeGreaterThan(10_000);
    expect(regenerated, 'clients/typescript/schema.d.ts is stale: run npm run client:generate').toBe(committed);
  });

  it('types every path of the document', async () => {
    const spec = await loadSpec(context);
    const committed = fs.readFileSync(COMMITTED, 'utf8');
    for (const route of Object.keys(spec.paths)) expect(committed).toContain(`'${route}': {`);
  });
});
