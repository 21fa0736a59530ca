import type { JsonObject } from '../../domain/models.js';

/** Why a schema cannot be a tool's input schema; the operation is skipped with this reason. */
export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
}

/**
 * The JSON Schema (draft-07) keywords a tool input schema keeps: what ajv compiles in strict mode
 * (with ajv-formats) and a model can read. Everything else an OpenAPI schema may carry —
 * `discriminator`, `xml`, `example`, `externalDocs`, `x-…` extensions — is dropped.
 *
 * `pattern` is dropped too: a regular expression from a description would run on every call's
 * arguments in the server's event loop, and one written to backtrack would hold it (the server
 * never runs a regex it did not review, ADR 0009). Its text stays in the description.
 */
const KEPT = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'format',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'title',
  'description',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'examples',
]);

/** The formats ajv-formats defines (an unknown `format` is a strict-mode error, so it is dropped). */
const FORMATS = new Set([
  'date',
  'time',
  'date-time',
  'iso-time',
  'iso-date-time',
  'duration',
  'uri',
  'uri-reference',
  'uri-template',
  'url',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'regex',
  'uuid',
  'json-pointer',
  'json-pointer-uri-fragment',
  'relative-json-pointer',
  'byte',
  'int32',
  'int64',
  'float',
  'double',
  'password',
  'binary',
]);

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

/** Deeper than this, a schema is not one a model fills in; it is refused rather than walked. */
const MAX_DEPTH = 32;

export interface SchemaOptions {
  /** OpenAPI 3.0's `nullable` and boolean `exclusiveMaximum`; 3.1 and Swagger 2.0 do not have them. */
  dialect: '2.0' | '3.0' | '3.1';
  /** A request: `readOnly` properties are not sent, so they leave the schema. */
  request: boolean;
}

/** The tool input schema for one OpenAPI schema (a new object; the input is not changed). */
export function toolInputSchema(schema: unknown, options: SchemaOptions): JsonObject | boolean {
  return convert(schema ?? {}, options, 0);
}

function convert(schema: unknown, options: SchemaOptions, depth: number): JsonObject | boolean {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) throw new UnsupportedSchemaError('a schema is not an object');
  if (depth > MAX_DEPTH) throw new UnsupportedSchemaError(`a schema nests deeper than ${MAX_DEPTH} levels`);
  if ('$ref' in schema) throw new UnsupportedSchemaError('a schema refers to itself (circular $ref)');
  const result: JsonObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (!KEPT.has(keyword) || value === undefined) continue;
    const converted = convertKeyword(keyword, value, options, depth);
    if (converted !== undefined) result[keyword] = converted;
  }
  if (typeof schema.pattern === 'string')
    result.description = joinText(result.description, `Pattern: ${schema.pattern.slice(0, 200)}`);
  declareRequired(result);
  inferType(result);
  dropInapplicable(result);
  boundForValidation(result);
  applyNullable(result, schema, options);
  applyExclusiveBounds(result, schema, options);
  if (options.request) dropReadOnly(result);
  return result;
}

function convertKeyword(keyword: string, value: unknown, options: SchemaOptions, depth: number): unknown {
  const nested = (child: unknown) => convert(child, options, depth + 1);
  switch (keyword) {
    case 'type':
      return typeOf(value);
    case 'format':
      return typeof value === 'string' && FORMATS.has(value) ? value : undefined;
    case 'properties':
      return isObject(value)
        ? Object.fromEntries(Object.entries(value).map(([name, child]) => [name, nested(child)]))
        : undefined;
    case 'items':
      return Array.isArray(value) ? value.map(nested) : nested(value);
    case 'additionalProperties':
    case 'not':
      return typeof value === 'boolean' ? value : nested(value);
    case 'allOf':
    case 'anyOf':
    case 'oneOf':
      return Array.isArray(value) && value.length > 0 ? value.map(nested) : undefined;
    case 'required':
      return Array.isArray(value) && value.every((name) => typeof name === 'string') ? [...new Set(value)] : undefined;
    case 'examples':
      return Array.isArray(value) ? value : undefined;
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      // OpenAPI 3.0's booleans are turned into bounds by applyExclusiveBounds.
      return typeof value === 'number' ? value : undefined;
    case 'enum':
      return Array.isArray(value) && value.length > 0 ? distinct(value) : undefined;
    default:
      return value;
  }
}

function typeOf(value: unknown): unknown {
  const types = Array.isArray(value) ? value : [value];
  if (types.includes('file')) throw new UnsupportedSchemaError('a "file" parameter (upload) cannot be a tool input');
  const known = types.filter((type): type is string => typeof type === 'string' && TYPES.has(type));
  if (known.length === 0) return undefined;
  return known.length === 1 ? known[0] : [...new Set(known)];
}

/**
 * Keywords of one type family with no `type` (common inside `allOf` branches) get that type:
 * ajv's strict mode refuses a keyword whose type is not declared, and for a tool's input (a JSON
 * object a model writes) the narrower schema is the one meant.
 */
const TYPE_KEYWORDS: readonly [string, readonly string[]][] = [
  ['object', ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties']],
  ['array', ['items', 'minItems', 'maxItems', 'uniqueItems']],
  ['string', ['minLength', 'maxLength']],
  ['number', ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']],
];

/**
 * A required name the schema's own `properties` lack (declared in a sibling `allOf` branch, say)
 * gets an empty schema there: it means the same, and ajv's strict mode wants it declared.
 */
function declareRequired(result: JsonObject): void {
  if (!Array.isArray(result.required)) return;
  const properties = isObject(result.properties) ? { ...result.properties } : {};
  for (const name of result.required as string[]) if (!(name in properties)) properties[name] = {};
  result.properties = properties;
}

function inferType(result: JsonObject): void {
  if (result.type !== undefined) return;
  const families = TYPE_KEYWORDS.filter(([, keywords]) => keywords.some((keyword) => keyword in result));
  if (families.length === 1) result.type = families[0]![0];
}

/**
 * Keywords for a type the schema does not allow (`minLength` on an integer, as real descriptions
 * have) constrain nothing; ajv's strict mode refuses them, so they go.
 */
function dropInapplicable(result: JsonObject): void {
  const declared = Array.isArray(result.type) ? result.type : [result.type];
  if (declared[0] === undefined) return;
  const types = new Set(declared.map((type) => (type === 'integer' ? 'number' : type)));
  for (const [type, keywords] of TYPE_KEYWORDS) {
    if (types.has(type)) continue;
    for (const keyword of keywords) delete result[keyword];
  }
}

/** A formatted string gets at most this many characters, so checking its format stays cheap. */
export const MAX_FORMATTED_LENGTH = 8_192;
/** `uniqueItems` over objects or arrays compares every pair: this many items at most. */
export const MAX_UNIQUE_ITEMS = 1_000;

/**
 * The bounds ajv's secure meta-schema asks for, where the description gives none: a tool's
 * arguments are a model's output, validated in the server's event loop.
 */
function boundForValidation(result: JsonObject): void {
  if (typeof result.format === 'string') {
    // The secure meta-schema wants a maxLength beside any format, which strict mode refuses on a
    // number: a number's format (int32, double) is only informative there, so it goes.
    const types = [result.type].flat();
    if (!types.includes('string')) delete result.format;
    else if (result.maxLength === undefined) result.maxLength = MAX_FORMATTED_LENGTH;
  }
  const items = result.items;
  const itemType = isObject(items) ? items.type : undefined;
  const structured = [itemType].flat().some((type) => type === 'object' || type === 'array');
  if (result.uniqueItems === true && structured && result.maxItems === undefined) result.maxItems = MAX_UNIQUE_ITEMS;
}

/** OpenAPI 3.0 `nullable: true`: null is one more allowed value. */
function applyNullable(result: JsonObject, schema: JsonObject, options: SchemaOptions): void {
  if (options.dialect !== '3.0' || schema.nullable !== true) return;
  if (typeof result.type === 'string') result.type = [result.type, 'null'];
  else if (Array.isArray(result.type) && !result.type.includes('null')) result.type = [...result.type, 'null'];
  if (Array.isArray(result.enum) && !result.enum.includes(null)) result.enum = [...result.enum, null];
}

/** OpenAPI 3.0 / Swagger 2.0 `exclusiveMaximum: true` beside `maximum` is draft-07's `exclusiveMaximum: <maximum>`. */
function applyExclusiveBounds(result: JsonObject, schema: JsonObject, options: SchemaOptions): void {
  if (options.dialect === '3.1') return;
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (schema[flag] === true && typeof schema[bound] === 'number') {
      result[flag] = schema[bound];
      delete result[bound];
    }
  }
}

function dropReadOnly(result: JsonObject): void {
  if (!isObject(result.properties)) return;
  const readOnly = Object.entries(result.properties)
    .filter(([, child]) => isObject(child) && child.readOnly === true)
    .map(([name]) => name);
  if (readOnly.length === 0) return;
  const properties = { ...result.properties };
  for (const name of readOnly) delete properties[name];
  result.properties = properties;
  if (Array.isArray(result.required))
    result.required = result.required.filter((name) => !readOnly.includes(name as string));
}

/** Values without repeats (JSON Schema wants `enum` items unique; descriptions repeat some). */
function distinct(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = JSON.stringify(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function joinText(existing: unknown, addition: string): string {
  return typeof existing === 'string' && existing !== '' ? `${existing} (${addition})` : addition;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
