import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { toolInputSchemaProblem } from '../../src/tools/input-schema-check.js';
import { importOperations, type OperationImport } from '../../src/tools/openapi-import/operations.js';
import { OpenApiDocumentError, readOpenApiDocument } from '../../src/tools/openapi-import/read-document.js';

const SWEEP_TIMEOUT_MS = 120_000;

/**
 * OpenAPI import over a corpus of real descriptions (ReadMe's `@readme/oas-examples`: Swagger 2.0,
 * OpenAPI 3.0 and 3.1, JSON and YAML): every operation becomes a tool whose input schema compiles
 * under ajv strict, or is skipped with a reason. `OPENAPI_IMPORT_REPORT=1` prints the rates.
 */

const corpusRoot = path.dirname(createRequire(import.meta.url).resolve('@readme/oas-examples/package.json'));
const corpus = ['2.0/json', '3.0/json', '3.0/yaml', '3.1/json', '3.1/yaml'].flatMap((folder) => {
  const directory = path.join(corpusRoot, folder);
  if (!fs.existsSync(directory)) return [];
  return fs
    .readdirSync(directory)
    .filter((name) => /\.(?:json|ya?ml)$/.test(name))
    .map((name) => ({ name: `${folder}/${name}`, text: fs.readFileSync(path.join(directory, name), 'utf8') }));
});
const BASE = 'https://api.example.test/base/';
const report: string[] = [];

afterAll(() => {
  if (process.env.OPENAPI_IMPORT_REPORT) console.info(report.join('\n'));
});

describe('OpenAPI import over the @readme/oas-examples corpus', () => {
  it('finds the corpus (the extraction works)', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
  });

  // A sweep over every operation: its time grows with the machine (seen past 30 s on a slower host under load).
  it(
    'turns every operation into a tool that compiles under ajv strict, or skips it with a reason',
    async () => {
      let operations = 0;
      let created = 0;
      const reasons = new Map<string, number>();
      for (const { name, text } of corpus) {
        let imported: OperationImport;
        try {
          imported = importOperations(await readOpenApiDocument(text), { baseUrl: BASE });
        } catch (error) {
          // A description that cannot be read at all says why; none in this corpus.
          throw new Error(`${name}: ${(error as Error).message}`);
        }
        const names = imported.tools.map((tool) => tool.tool_name);
        expect(new Set(names).size, `${name}: tool names are unique`).toBe(names.length);
        for (const tool of imported.tools) {
          const where = `${name} ${tool.operation}`;
          expect(tool.tool_name, where).toMatch(/^[a-z_][\w-]{0,63}$/i);
          // The check every stored external tool's schema passes (strict ajv, secure, no regex).
          expect(toolInputSchemaProblem(tool.configuration.input_schema), where).toBeNull();
          const url = new URL(tool.configuration.url.replaceAll(/\{([^{}]+)\}/g, 'x'));
          expect(['http:', 'https:'], where).toContain(url.protocol);
          const properties = tool.configuration.input_schema.properties as Record<string, unknown>;
          for (const [, parameter] of tool.configuration.url.matchAll(/\{([^{}]+)\}/g))
            expect(properties, `${where}: {${parameter}} is an input`).toHaveProperty([parameter!]);
          for (const template of [
            ...Object.values(tool.configuration.query ?? {}),
            ...Object.values(tool.configuration.headers ?? {}),
          ])
            expect(properties, `${where}: ${template} is an input`).toHaveProperty([template.slice(1, -1)]);
          if (tool.configuration.body) expect(properties, where).toHaveProperty([tool.configuration.body.slice(1, -1)]);
        }
        for (const skipped of imported.skipped) {
          expect(skipped.reason.length, `${name} ${skipped.operation}`).toBeGreaterThan(5);
          reasons.set(skipped.reason, (reasons.get(skipped.reason) ?? 0) + 1);
        }
        operations += imported.tools.length + imported.skipped.length;
        created += imported.tools.length;
        report.push(`${name}: ${imported.tools.length} tools, ${imported.skipped.length} skipped`);
      }
      report.push(
        `total: ${created} of ${operations} operations became tools (${((100 * created) / operations).toFixed(1)} %)`,
      );
      for (const [reason, count] of [...reasons].sort((left, right) => right[1] - left[1]))
        report.push(`  skipped ${count}×: ${reason}`);
      expect(operations).toBeGreaterThan(300);
      // Most of a real corpus imports; what does not is skipped for a stated reason.
      expect(created / operations).toBeGreaterThan(0.8);
    },
    SWEEP_TIMEOUT_MS,
  );
});

describe('converting one operation', () => {
  const petstore = fs.readFileSync(path.join(corpusRoot, '3.0/json/petstore.json'), 'utf8');

  it('maps path, query and header parameters and a JSON body to inputs and templates', async () => {
    const document = await readOpenApiDocument({
      openapi: '3.0.3',
      info: { title: 't', version: '1' },
      servers: [{ url: 'https://{region}.example.test/v1', variables: { region: { default: 'eu' } } }],
      paths: {
        '/items/{item_id}': {
          parameters: [{ name: 'item_id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
          put: {
            operationId: 'replace item!',
            summary: 'Replace an item',
            parameters: [
              { name: 'dry_run', in: 'query', schema: { type: 'boolean' } },
              { name: 'X-Trace', in: 'header', schema: { type: 'string', pattern: '^(a+)+$' } },
              { name: 'Authorization', in: 'header', schema: { type: 'string' } },
            ],
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['id', 'name'],
                    properties: {
                      id: { type: 'integer', readOnly: true },
                      name: { type: 'string', nullable: true, example: 'x', xml: { name: 'n' } },
                      size: { type: 'number', maximum: 10, exclusiveMaximum: true, format: 'weird' },
                    },
                  },
                },
              },
            },
          },
        },
      },
    });
    const { tools, skipped } = importOperations(document);
    expect(skipped).toEqual([]);
    expect(tools).toEqual([
      {
        operation: 'PUT /items/{item_id}',
        operation_id: 'replace item!',
        tool_name: 'replace_item',
        configuration: {
          description: 'Replace an item',
          method: 'PUT',
          url: 'https://eu.example.test/v1/items/{item_id}',
          query: { dry_run: '{dry_run}' },
          headers: { 'X-Trace': '{X_Trace}' },
          body: '{body}',
          input_schema: {
            type: 'object',
            additionalProperties: false,
            required: ['item_id', 'body'],
            properties: {
              item_id: { type: 'integer', minimum: 1 },
              dry_run: { type: 'boolean' },
              // The pattern is never compiled: it only informs the model.
              X_Trace: { type: 'string', description: 'Pattern: ^(a+)+$' },
              body: {
                type: 'object',
                required: ['name'],
                properties: { name: { type: ['string', 'null'] }, size: { type: 'number', exclusiveMaximum: 10 } },
              },
            },
          },
        },
      },
    ]);
  });

  it('skips what it cannot call, saying why, and imports the rest', async () => {
    const document = await readOpenApiDocument({
      swagger: '2.0',
      info: { title: 't', version: '1' },
      host: 'api.example.test',
      basePath: '/v2',
      schemes: ['https'],
      paths: {
        '/upload': { post: { operationId: 'upload', parameters: [{ name: 'file', in: 'formData', type: 'file' }] } },
        '/pets': {
          post: {
            operationId: 'addPet',
            parameters: [
              {
                name: 'pet',
                in: 'body',
                required: true,
                schema: { type: 'object', properties: { name: { type: 'string' } } },
              },
            ],
          },
          get: { operationId: 'listPets', parameters: [{ name: 'limit', in: 'query', type: 'integer', maximum: 100 }] },
        },
      },
    });
    const { tools, skipped } = importOperations(document, { select: ['addPet', 'GET /pets', 'upload'] });
    expect(skipped).toEqual([
      {
        operation: 'POST /upload',
        operation_id: 'upload',
        reason: 'form data (application/x-www-form-urlencoded, multipart) is not supported',
      },
    ]);
    expect(tools.map((tool) => [tool.tool_name, tool.configuration.url, tool.configuration.input_schema])).toEqual([
      [
        'listPets',
        'https://api.example.test/v2/pets',
        { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', maximum: 100 } } },
      ],
      [
        'addPet',
        'https://api.example.test/v2/pets',
        {
          type: 'object',
          additionalProperties: false,
          required: ['body'],
          properties: { body: { type: 'object', properties: { name: { type: 'string' } } } },
        },
      ],
    ]);
    const only = importOperations(await readOpenApiDocument(petstore), { select: ['getPetById'] });
    expect(only.tools.map((tool) => tool.tool_name)).toEqual(['getPetById']);
    expect(only.skipped.every((entry) => entry.reason === 'not selected')).toBe(true);
  });

  it('skips an operation whose schema is circular, cookie parameters and non-JSON bodies', async () => {
    const document = await readOpenApiDocument({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      servers: [{ url: '/relative' }],
      components: {
        schemas: { Node: { type: 'object', properties: { child: { $ref: '#/components/schemas/Node' } } } },
      },
      paths: {
        '/tree': {
          post: {
            operationId: 'tree',
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } },
          },
        },
        '/session': {
          get: { operationId: 'session', parameters: [{ name: 'sid', in: 'cookie', schema: { type: 'string' } }] },
        },
        '/xml': {
          post: { operationId: 'xml', requestBody: { content: { 'application/xml': { schema: { type: 'string' } } } } },
        },
        '/ok': { get: { operationId: 'ok' } },
      },
    });
    expect(importOperations(document).skipped.map((entry) => [entry.operation_id, entry.reason])).toEqual([
      ['tree', 'a schema refers to itself (circular $ref)'],
      ['session', 'cookie parameter "sid" is not supported'],
      ['xml', 'request body media type application/xml is not supported (JSON only)'],
      ['ok', 'no absolute server URL: give base_url'],
    ]);
    const withBase = importOperations(document, { baseUrl: 'https://api.example.test/' });
    expect(withBase.tools.map((tool) => [tool.tool_name, tool.configuration.url])).toEqual([
      ['ok', 'https://api.example.test/relative/ok'],
    ]);
  });
});

describe('reading a description', () => {
  it('never fetches or reads an external $ref: a listener it would reach sees no connection', async () => {
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as net.AddressInfo;
    try {
      const document = await readOpenApiDocument({
        openapi: '3.0.3',
        info: { title: 't', version: '1' },
        servers: [{ url: 'https://api.example.test' }],
        paths: {
          '/remote': {
            get: { operationId: 'remote', parameters: [{ $ref: `http://127.0.0.1:${port}/parameters.json#/limit` }] },
          },
          '/file': { get: { operationId: 'file', parameters: [{ $ref: '/etc/passwd#/x' }] } },
        },
      });
      const { tools, skipped } = importOperations(document);
      expect(tools).toEqual([]);
      expect(skipped.map((entry) => entry.reason)).toEqual([
        'a parameter refers to itself (circular $ref)',
        'a parameter refers to itself (circular $ref)',
      ]);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
    expect(connections).toBe(0);
  });

  it('refuses what is not an OpenAPI or Swagger description, and a YAML alias bomb, with a reason', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 9 }, (_, index) => {
        const name = String.fromCharCode(98 + index);
        const previous = String.fromCharCode(97 + index);
        return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`;
      }),
    ].join('\n');
    const cases: [string, RegExp][] = [
      ['{"info": {}}', /not an OpenAPI 3\.0\/3\.1 or Swagger 2\.0 description/],
      ['[1, 2]', /must be a JSON or YAML object/],
      ['openapi: [unclosed', /neither JSON nor YAML/],
      [bomb, /neither JSON nor YAML/],
    ];
    for (const [text, message] of cases) {
      const failure = await readOpenApiDocument(text).catch((error: unknown) => error);
      expect(failure, text.slice(0, 40)).toBeInstanceOf(OpenApiDocumentError);
      expect((failure as Error).message).toMatch(message);
    }
  });
});
