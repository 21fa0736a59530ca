import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { ValidationIssue } from '../errors.js';

// ajv-formats ships CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export const METADATA_LIMITS = { maxKeys: 16, maxKeyLength: 64, maxValueLength: 512 } as const;

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({
    removeAdditional: true,
    useDefaults: true,
    allErrors: true,
    strict: false,
    ...options,
  });
  addFormats(ajv);
  // A metadata value: a string of at most N characters, or any other JSON value whose JSON text is at most N.
  ajv.addKeyword({
    keyword: 'x-max-value-length',
    type: [],
    schemaType: 'number',
    errors: false,
    validate: (limit: number, data: unknown) =>
      typeof data === 'string' ? data.length <= limit : (JSON.stringify(data) ?? '').length <= limit,
  });
  return ajv;
}

/**
 * Fastify's `buildValidator`. Bodies are validated strictly (a number is not a string), as
 * Pydantic does; path, query and header values arrive as text and are coerced ("50" → 50,
 * "true" → true).
 *
 * Fastify 5.12 calls the builder again for every route registered after any shared schema was
 * added (its `addedSchemas` flag is never reset): 101 calls with all 72 shared schemas at start,
 * 1.2 s of CPU when each built two ajv instances. So one pair is kept per app and each call only
 * adds the schemas not seen yet; a second, different schema under a known `$id` is refused.
 */
export function validatorCompilerBuilder(): (sharedSchemas: Record<string, unknown>) => FastifySchemaCompiler<object> {
  const bodyAjv = createAjv({ coerceTypes: false });
  const textAjv = createAjv({ coerceTypes: 'array' });
  const added = new Map<string, unknown>();
  const compile: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
  return (sharedSchemas) => {
    for (const [id, schema] of Object.entries(sharedSchemas)) {
      const known = added.get(id);
      if (known === schema) continue;
      if (known !== undefined) throw new Error(`two different shared schemas have the $id ${id}`);
      bodyAjv.addSchema(schema as object);
      textAjv.addSchema(schema as object);
      added.set(id, schema);
    }
    return compile;
  };
}

const PART_NAMES: Record<string, string> = {
  body: 'body',
  params: 'path',
  querystring: 'query',
  headers: 'header',
};

const TYPE_ISSUES: Record<string, { type: string; msg: string }> = {
  string: { type: 'string_type', msg: 'Input should be a valid string' },
  integer: { type: 'int_type', msg: 'Input should be a valid integer' },
  number: { type: 'float_type', msg: 'Input should be a valid number' },
  boolean: { type: 'bool_type', msg: 'Input should be a valid boolean' },
  object: { type: 'dict_type', msg: 'Input should be a valid dictionary or object' },
  array: { type: 'list_type', msg: 'Input should be a valid list' },
  null: { type: 'none_required', msg: 'Input should be None' },
};

/** Turns ajv's errors into FastAPI's `detail` list (`loc`, `msg`, `type`). */
export function toValidationIssues(
  errors: readonly ErrorObject[],
  context: string,
  input: { bodyMissing: boolean },
): ValidationIssue[] {
  const part = PART_NAMES[context] ?? context;
  if (part === 'body' && input.bodyMissing) return [{ loc: ['body'], msg: 'Field required', type: 'missing' }];
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  // A union of literals fails once per literal; Pydantic reports one literal_error naming them all.
  const literals = new Map<string, unknown[]>();
  for (const error of errors) {
    if (error.keyword !== 'const') continue;
    const allowed = literals.get(error.instancePath) ?? [];
    allowed.push((error.params as { allowedValue?: unknown }).allowedValue);
    literals.set(error.instancePath, allowed);
  }
  for (const error of errors) {
    // anyOf/oneOf repeat what their branches said; the branch errors are the useful ones.
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const issue = toIssue(error, part, literals);
    const fingerprint = JSON.stringify(issue);
    if (!seen.has(fingerprint)) {
      seen.add(fingerprint);
      issues.push(issue);
    }
  }
  return issues.length > 0 ? issues : [{ loc: [part], msg: 'Input is not valid', type: 'value_error' }];
}

function pathSegments(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

// One case per ajv keyword, each a line or two: a table reads best whole.
// eslint-disable-next-line max-lines-per-function
function toIssue(error: ErrorObject, part: string, literals: Map<string, unknown[]>): ValidationIssue {
  const loc = [part, ...pathSegments(error.instancePath)];
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { loc: [...loc, String(params.missingProperty)], msg: 'Field required', type: 'missing' };
    case 'type': {
      const expected = String(params.type).split(',')[0] ?? 'string';
      return { loc, ...(TYPE_ISSUES[expected] ?? { type: `${expected}_type`, msg: `Input should be ${expected}` }) };
    }
    case 'format':
      if (params.format === 'uuid') return { loc, msg: 'Input should be a valid UUID', type: 'uuid_parsing' };
      if (params.format === 'date-time')
        return { loc, msg: 'Input should be a valid datetime', type: 'datetime_parsing' };
      return { loc, msg: `Input should be a valid ${String(params.format)}`, type: 'value_error' };
    case 'pattern':
      return { loc, msg: `String should match pattern '${String(params.pattern)}'`, type: 'string_pattern_mismatch' };
    case 'enum':
      return { loc, msg: `Input should be ${oneOfText(params.allowedValues as unknown[])}`, type: 'enum' };
    case 'const':
      return {
        loc,
        msg: `Input should be ${oneOfText(literals.get(error.instancePath) ?? [params.allowedValue])}`,
        type: 'literal_error',
      };
    case 'minLength':
      return { loc, msg: `String should have at least ${String(params.limit)} characters`, type: 'string_too_short' };
    case 'maxLength':
      // Under propertyNames, ajv puts the offending key on the error itself, not in params.
      if (error.propertyName !== undefined) return keyTooLong(loc, { propertyName: error.propertyName });
      return { loc, msg: `String should have at most ${String(params.limit)} characters`, type: 'string_too_long' };
    case 'propertyNames':
      return keyTooLong(loc, params);
    case 'minimum':
      return {
        loc,
        msg: `Input should be greater than or equal to ${String(params.limit)}`,
        type: 'greater_than_equal',
      };
    case 'maximum':
      return { loc, msg: `Input should be less than or equal to ${String(params.limit)}`, type: 'less_than_equal' };
    case 'maxProperties':
      return { loc, msg: `Object should have at most ${String(params.limit)} keys`, type: 'too_long' };
    case 'maxItems':
      return { loc, msg: `List should have at most ${String(params.limit)} items`, type: 'too_long' };
    case 'minItems':
      return { loc, msg: `List should have at least ${String(params.limit)} items`, type: 'too_short' };
    case 'uniqueItems':
      return { loc, msg: 'List items should be unique', type: 'value_error' };
    case 'x-max-value-length':
      return {
        loc,
        msg: `Value should have at most ${METADATA_LIMITS.maxValueLength} characters`,
        type: 'string_too_long',
      };
    case 'additionalProperties':
      return {
        loc: [...loc, String(params.additionalProperty)],
        msg: 'Extra inputs are not permitted',
        type: 'extra_forbidden',
      };
    default:
      return { loc, msg: error.message ?? 'Input is not valid', type: 'value_error' };
  }
}

/** `'a', 'b' or 'c'`, as Pydantic lists expected values. */
function oneOfText(values: readonly unknown[]): string {
  const quoted = values.map((value) => `'${String(value)}'`);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : (quoted[0] ?? "''");
}

function keyTooLong(loc: (string | number)[], params: Record<string, unknown>): ValidationIssue {
  return {
    loc: [...loc, String(params.propertyName)],
    msg: `Key should have at most ${METADATA_LIMITS.maxKeyLength} characters`,
    type: 'string_too_long',
  };
}
