import { createRequire } from 'node:module';
import { Ajv, type AnySchema } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { JsonObject } from '../domain/models.js';

// ajv-formats ships CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * ajv's own meta-schema for JSON Schemas that are safe to validate untrusted data with: a
 * `format` needs a `maxLength`, a `uniqueItems` of objects a `maxItems`, and so on. A model's
 * arguments are untrusted data.
 */
const isSecureSchema = new Ajv({ strict: false }).compile(
  createRequire(import.meta.url)('ajv/dist/refs/json-schema-secure.json') as AnySchema,
);

/** The keywords whose value is a schema, a list of schemas, or a map of schemas. */
const SCHEMA_KEYWORDS = [
  'items',
  'additionalItems',
  'additionalProperties',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
];
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'items'];
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependencies'];
const REGEX_KEYWORDS = ['pattern', 'patternProperties'];

/**
 * Why a tool's input schema cannot be accepted, or null. It must describe an object, run no
 * regular expression (a `pattern` from a client would be run on every call's arguments in the
 * server's event loop, where one written to backtrack holds every request — ADR 0009), be safe to
 * validate untrusted data with, and compile under ajv's strict mode with the standard formats
 * and union types. Every external tool's schema passes here, whether written or imported.
 */
export function toolInputSchemaProblem(schema: JsonObject): string | null {
  if (schema.type !== 'object') return 'input_schema must be a JSON Schema with "type": "object"';
  const regex = regexKeywordPath(schema, '');
  if (regex !== null)
    return `input_schema may not use ${regex.keyword} (at ${regex.path || '/'}): the server runs no client-given regular expression; describe the format instead`;
  if (!isSecureSchema(schema)) {
    const first = isSecureSchema.errors?.[0];
    return `input_schema is not safe to validate untrusted input with: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim();
  }
  // A fresh instance per check: ajv keeps every schema it compiled, and these come from clients.
  const strict = new Ajv({ strict: true, allowUnionTypes: true, allErrors: false });
  addFormats(strict);
  try {
    strict.compile(schema);
  } catch (error) {
    return `input_schema is not a valid JSON Schema: ${(error as Error).message}`;
  }
  return null;
}

/** The first `pattern` / `patternProperties` used as a keyword (not as a property's name). */
function regexKeywordPath(schema: unknown, path: string): { keyword: string; path: string } | null {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return null;
  const node = schema as JsonObject;
  for (const keyword of REGEX_KEYWORDS) if (keyword in node) return { keyword, path };
  for (const keyword of SCHEMA_KEYWORDS) {
    const found = regexKeywordPath(node[keyword], `${path}/${keyword}`);
    if (found) return found;
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const list = node[keyword];
    if (!Array.isArray(list)) continue;
    for (const [index, child] of list.entries()) {
      const found = regexKeywordPath(child, `${path}/${keyword}/${index}`);
      if (found) return found;
    }
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = node[keyword];
    if (typeof map !== 'object' || map === null || Array.isArray(map)) continue;
    for (const [name, child] of Object.entries(map)) {
      const found = regexKeywordPath(child, `${path}/${keyword}/${name}`);
      if (found) return found;
    }
  }
  return null;
}
