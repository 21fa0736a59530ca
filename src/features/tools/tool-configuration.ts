import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ToolType } from '../../domain/agent-tools.js';
import type { JsonObject } from '../../domain/models.js';
import { AppError, type ValidationIssue } from '../../errors.js';
import { toValidationIssues } from '../../http/validation.js';
import { toolInputSchemaProblem } from '../../tools/input-schema-check.js';
import {
  AUTH_CONFIGURATIONS,
  BUILT_IN_CONFIGURATIONS,
  BUILT_IN_TOOL_NAMES,
  EXTERNAL_TOOL_CONFIGURATION,
  MAX_CONFIGURATION_CHARACTERS,
  type AuthType,
  type BuiltInToolName,
} from './tool-configuration-schemas.js';

const CONFIGURATION = ['body', 'configuration'] as const;

/** Configuration shapes: every error at once, unknown keys refused (no removal, no defaults). */
const shapes = new Ajv({ allErrors: true, strict: false });
const builtInValidators = new Map(
  BUILT_IN_TOOL_NAMES.map((name) => [name, shapes.compile(BUILT_IN_CONFIGURATIONS[name])] as const),
);
const externalValidator = shapes.compile(EXTERNAL_TOOL_CONFIGURATION);
const authValidators = new Map(
  Object.entries(AUTH_CONFIGURATIONS).map(([type, schema]) => [type, shapes.compile(schema)] as const),
);

/** `{name}` in a URL or template: filled from the input property `name`. */
const PLACEHOLDER = /\{([a-z_]\w{0,63})\}/gi;

/** Whether `name` is a built-in tool. */
export function isBuiltInToolName(name: string): name is BuiltInToolName {
  return (BUILT_IN_TOOL_NAMES as readonly string[]).includes(name);
}

/**
 * Checks a tool's `configuration` for its type (and, for a built-in, its name) and throws 422
 * with every problem found, each at `["body", "configuration", …]` (or at the field that makes
 * the configuration impossible). The configuration is as the client sent it: secrets not sealed.
 */
export function validateToolConfiguration(input: {
  toolType: ToolType;
  toolName: string;
  configuration: JsonObject | null;
}): void {
  const issues = configurationIssues(input);
  if (issues.length > 0) throw new AppError('validation_error', { issues });
}

function configurationIssues(input: {
  toolType: ToolType;
  toolName: string;
  configuration: JsonObject | null;
}): ValidationIssue[] {
  const { toolType, toolName, configuration } = input;
  if (configuration !== null && JSON.stringify(configuration).length > MAX_CONFIGURATION_CHARACTERS) {
    return [
      issue(
        [...CONFIGURATION],
        `configuration should have at most ${MAX_CONFIGURATION_CHARACTERS} characters of JSON`,
        'string_too_long',
      ),
    ];
  }
  if (toolType === 'built_in') return builtInIssues(toolName, configuration ?? {});
  if (toolType === 'mcp_server') return mcpToolIssues(configuration ?? {});
  if (configuration === null) return [issue([...CONFIGURATION], 'Field required', 'missing')];
  return externalToolIssues(configuration);
}

/**
 * An MCP tool's configuration (docs/mcp.md): the server's tool name (`mcp_tool_name`, the
 * tool_name when absent) and what a sync fills in — description, input schema (kept as the
 * server gives it: the server validates its arguments), annotations — plus `timeout_ms` and
 * `requires_approval`.
 */
function mcpToolIssues(configuration: JsonObject): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const stringField = (name: string) => {
    if (configuration[name] !== undefined && typeof configuration[name] !== 'string')
      issues.push(issue([...CONFIGURATION, name], 'Input should be a valid string', 'string_type'));
  };
  stringField('mcp_tool_name');
  stringField('description');
  stringField('title');
  for (const name of ['input_schema', 'annotations', 'output_schema']) {
    const value = configuration[name];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)))
      issues.push(issue([...CONFIGURATION, name], 'Input should be a valid dictionary', 'dict_type'));
  }
  const timeout = configuration.timeout_ms;
  if (
    timeout !== undefined &&
    !(Number.isInteger(timeout) && (timeout as number) >= 100 && (timeout as number) <= 600_000)
  )
    issues.push(issue([...CONFIGURATION, 'timeout_ms'], 'timeout_ms should be an integer from 100 to 600000'));
  if (configuration.requires_approval !== undefined && typeof configuration.requires_approval !== 'boolean')
    issues.push(issue([...CONFIGURATION, 'requires_approval'], 'Input should be a valid boolean', 'bool_type'));
  const known = new Set([
    'mcp_tool_name',
    'description',
    'title',
    'input_schema',
    'annotations',
    'output_schema',
    'timeout_ms',
    'requires_approval',
  ]);
  for (const name of Object.keys(configuration)) {
    if (!known.has(name))
      issues.push(issue([...CONFIGURATION, name], 'Extra inputs are not permitted', 'extra_forbidden'));
  }
  return issues;
}

function builtInIssues(toolName: string, configuration: JsonObject): ValidationIssue[] {
  if (!isBuiltInToolName(toolName)) {
    return [issue(['body', 'tool_name'], `Unknown built-in tool: one of ${BUILT_IN_TOOL_NAMES.join(', ')}`)];
  }
  const shapeIssues = validateAt(builtInValidators.get(toolName)!, configuration, [...CONFIGURATION]);
  if (shapeIssues.length > 0) return shapeIssues;
  if (
    toolName === 'current_time' &&
    typeof configuration.timezone === 'string' &&
    !isTimeZone(configuration.timezone)
  ) {
    return [issue([...CONFIGURATION, 'timezone'], `Unknown IANA time zone "${configuration.timezone}"`)];
  }
  return [];
}

/** An IANA zone name (or alias) that this Node's ICU knows. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

function externalToolIssues(configuration: JsonObject): ValidationIssue[] {
  const shapeIssues = validateAt(externalValidator, configuration, [...CONFIGURATION]);
  if (shapeIssues.length > 0) return shapeIssues;
  const auth = configuration.auth as JsonObject | undefined;
  if (auth !== undefined) {
    const authIssues = validateAt(authValidators.get(auth.type as AuthType)!, auth, [...CONFIGURATION, 'auth']);
    if (authIssues.length > 0) return authIssues;
    if (auth.type === 'oauth2_client_credentials') {
      const tokenUrl = urlIssue(String(auth.token_url), [...CONFIGURATION, 'auth', 'token_url'], false);
      if (tokenUrl) return [tokenUrl];
    }
  }
  const schemaIssue = inputSchemaIssue(configuration.input_schema as JsonObject);
  if (schemaIssue) return [schemaIssue];
  const url = String(configuration.url);
  const urlProblem = urlIssue(url, [...CONFIGURATION, 'url'], true);
  if (urlProblem) return [urlProblem];
  return placeholderIssues(configuration);
}

/** The input schema, checked as every external tool's is (src/tools/input-schema-check.ts). */
function inputSchemaIssue(schema: JsonObject): ValidationIssue | null {
  const problem = toolInputSchemaProblem(schema);
  return problem === null ? null : issue([...CONFIGURATION, 'input_schema'], problem);
}

/** http or https, a host, no user:password (credentials go in `auth`); placeholders only in the path. */
function urlIssue(url: string, at: (string | number)[], placeholdersAllowed: boolean): ValidationIssue | null {
  const schemeEnd = url.indexOf('://');
  const pathStart = schemeEnd < 0 ? -1 : url.indexOf('/', schemeEnd + 3);
  const firstBrace = url.indexOf('{');
  if (firstBrace >= 0 && (!placeholdersAllowed || pathStart < 0 || firstBrace < pathStart)) {
    return issue(at, 'Placeholders such as {name} may appear only in the URL’s path');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return issue(at, 'Input should be a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return issue(at, 'URL scheme should be http or https');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return issue(at, 'The URL may not hold credentials; use auth');
  }
  return null;
}

/** Every `{name}` in the URL, headers, query and body names a property of the input schema. */
function placeholderIssues(configuration: JsonObject): ValidationIssue[] {
  const properties = (configuration.input_schema as { properties?: unknown }).properties;
  const known = new Set(typeof properties === 'object' && properties !== null ? Object.keys(properties) : []);
  const issues: ValidationIssue[] = [];
  const check = (text: string, at: (string | number)[]) => {
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (!known.has(match[1]!)) {
        issues.push(issue(at, `{${match[1]}} is not a property of input_schema.properties`));
      }
    }
  };
  check(String(configuration.url), [...CONFIGURATION, 'url']);
  if (typeof configuration.body === 'string') check(configuration.body, [...CONFIGURATION, 'body']);
  for (const part of ['headers', 'query', 'body'] as const) {
    const value = configuration[part];
    const templates = (typeof value === 'object' && value !== null ? value : {}) as Record<string, string>;
    for (const [name, template] of Object.entries(templates)) check(template, [...CONFIGURATION, part, name]);
  }
  return issues;
}

function validateAt(validate: ValidateFunction, value: unknown, prefix: (string | number)[]): ValidationIssue[] {
  if (validate(value)) return [];
  return relocate(validate.errors ?? [], prefix);
}

/** ajv's errors as the API's issues, at `prefix` rather than at the body's root. */
function relocate(errors: readonly ErrorObject[], prefix: (string | number)[]): ValidationIssue[] {
  return toValidationIssues(errors, 'body', { bodyMissing: false }).map((found) => ({
    ...found,
    loc: [...prefix, ...found.loc.slice(1)],
  }));
}

function issue(loc: (string | number)[], msg: string, type = 'value_error'): ValidationIssue {
  return { loc, msg, type };
}
