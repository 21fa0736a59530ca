import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import prettier from 'prettier';

/**
 * The typed client's `schema.d.ts` (clients/typescript/), rendered from an OpenAPI document by
 * openapi-typescript and formatted with the repository's Prettier settings, so the committed file
 * passes `prettier --check` and the freshness test (test/unit/typed-client-fresh.test.ts) can
 * compare it byte for byte with a fresh rendering.
 */
export async function renderClientSchema(document) {
  const ast = await openapiTS(document, { alphabetize: false });
  const source = COMMENT_HEADER + astToString(ast);
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const target = path.join(root, 'clients/typescript/schema.d.ts');
  const options = (await prettier.resolveConfig(target)) ?? {};
  return prettier.format(source, { ...options, filepath: target });
}

// `node scripts/typed-client.js <openapi.json> <schema.d.ts>` (npm run client:generate).
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node scripts/typed-client.js <openapi.json> <schema.d.ts>');
    process.exit(2);
  }
  const document = JSON.parse(fs.readFileSync(input, 'utf8'));
  fs.writeFileSync(output, await renderClientSchema(document));
}
