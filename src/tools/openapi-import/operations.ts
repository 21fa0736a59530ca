import type { JsonObject } from '../../domain/models.js';
import type { OpenApiDocument, OpenApiVersion } from './read-document.js';
import { toolInputSchema, UnsupportedSchemaError } from './tool-input-schema.js';

/**
 * An external tool made from one operation, in the stored configuration's terms (docs/tools.md):
 * `url`, `query` and `headers` values are templates whose `{name}` is filled from the input
 * property `name`; `body` is `"{name}"`, the input property sent as the whole JSON body. Input
 * property names are identifiers (`X-Trace` becomes `X_Trace`); the template keeps the wire name.
 */
export interface ImportedToolConfiguration {
  description: string;
  method: string;
  url: string;
  input_schema: JsonObject;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

export interface ImportedOperation {
  /** `METHOD /path` as the description spells the path. */
  operation: string;
  operation_id: string | null;
  tool_name: string;
  configuration: ImportedToolConfiguration;
}

export interface SkippedOperation {
  operation: string;
  operation_id: string | null;
  reason: string;
}

export interface OperationImport {
  tools: ImportedOperation[];
  skipped: SkippedOperation[];
}

export interface ImportOptions {
  /** Where relative server URLs resolve (the description's own URL when it was fetched). */
  baseUrl?: string | undefined;
  /** Only these operations (by operationId or `METHOD /path`); all when absent. */
  select?: readonly string[] | undefined;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** Headers the HTTP client sets itself, or the tool's `auth` does: never a model's input. */
const CLIENT_HEADERS = new Set(['accept', 'content-type', 'content-length', 'authorization', 'host']);
const TOOL_NAME_LENGTH = 64;
/** What a `{name}` placeholder may name (as src/features/tools/tool-configuration.ts reads them). */
const IDENTIFIER = /^[a-z_]\w{0,63}$/i;
const DESCRIPTION_LENGTH = 1_024;

/**
 * Every operation of a dereferenced description as an external tool, or skipped with the reason
 * (what the user would have to change, or what Parley does not support). One operation's problem
 * never stops the others.
 */
export function importOperations(input: OpenApiDocument, options: ImportOptions = {}): OperationImport {
  const { document, version } = input;
  const result: OperationImport = { tools: [], skipped: [] };
  const names = new Set<string>();
  const paths = isObject(document.paths) ? document.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const label = `${method.toUpperCase()} ${path}`;
      const operationId = typeof operation.operationId === 'string' ? operation.operationId : null;
      if (options.select && !options.select.includes(label) && !(operationId && options.select.includes(operationId))) {
        result.skipped.push({ operation: label, operation_id: operationId, reason: 'not selected' });
        continue;
      }
      try {
        const configuration = toolOf({ document, version, path, item, method, operation, baseUrl: options.baseUrl });
        const tool_name = uniqueName(operationId ?? `${method}_${path}`, names);
        result.tools.push({ operation: label, operation_id: operationId, tool_name, configuration });
      } catch (error) {
        if (!(error instanceof UnsupportedSchemaError)) throw error;
        result.skipped.push({ operation: label, operation_id: operationId, reason: error.message });
      }
    }
  }
  return result;
}

interface OperationContext {
  document: JsonObject;
  version: OpenApiVersion;
  path: string;
  item: JsonObject;
  method: string;
  operation: JsonObject;
  baseUrl: string | undefined;
}

function toolOf(context: OperationContext): ImportedToolConfiguration {
  const { version } = context;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const query: Record<string, string> = {};
  const headers: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (const parameter of parametersOf(context)) {
    const wireName = parameter.name as string;
    const place = parameter.in as string;
    const name = place === 'path' ? wireName : inputName(wireName);
    if (place === 'body' || place === 'formData') continue;
    if (place === 'cookie') throw new UnsupportedSchemaError(`cookie parameter "${wireName}" is not supported`);
    if (place === 'header' && CLIENT_HEADERS.has(wireName.toLowerCase())) continue;
    if (!['path', 'query', 'header'].includes(place))
      throw new UnsupportedSchemaError(`parameter "${wireName}" is in "${place}"`);
    if (place === 'path' && !IDENTIFIER.test(wireName))
      throw new UnsupportedSchemaError(`path parameter "${wireName}" is not an identifier`);
    const earlier = seen.get(name);
    if (earlier)
      throw new UnsupportedSchemaError(
        `parameter "${wireName}" (${place}) and a ${earlier} parameter are both input "${name}"`,
      );
    seen.set(name, place);
    properties[name] = withDescription(
      toolInputSchema(parameterSchema(parameter, version), { dialect: version, request: true }),
      parameter.description,
    );
    if (parameter.required === true || place === 'path') required.push(name);
    if (place === 'query') query[wireName] = `{${name}}`;
    if (place === 'header') headers[wireName] = `{${name}}`;
  }
  const body = requestBodyOf(context);
  let bodyProperty: string | undefined;
  if (body) {
    bodyProperty = seen.has('body') ? 'request_body' : 'body';
    if (seen.has(bodyProperty))
      throw new UnsupportedSchemaError('parameters named "body" and "request_body" leave no name for the request body');
    properties[bodyProperty] = withDescription(
      toolInputSchema(body.schema, { dialect: version, request: true }),
      body.description,
    );
    if (body.required) required.push(bodyProperty);
  }
  for (const placeholder of context.path.matchAll(/\{([^{}]+)\}/g)) {
    if (seen.get(placeholder[1]!) !== 'path')
      throw new UnsupportedSchemaError(`path parameter "${placeholder[1]}" is not declared`);
  }
  const input_schema: JsonObject = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) input_schema.required = required;
  return {
    description: descriptionOf(context),
    method: context.method.toUpperCase(),
    url: `${trimEnd(serverUrlOf(context), '/')}${context.path}`,
    input_schema,
    ...(Object.keys(query).length > 0 ? { query } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(bodyProperty ? { body: `{${bodyProperty}}` } : {}),
  };
}

/** The path item's parameters, overridden by the operation's own (same name and place). */
function parametersOf({ item, operation }: OperationContext): JsonObject[] {
  const byKey = new Map<string, JsonObject>();
  for (const list of [item.parameters, operation.parameters]) {
    if (!Array.isArray(list)) continue;
    for (const parameter of list) {
      if (!isObject(parameter) || typeof parameter.name !== 'string' || typeof parameter.in !== 'string') {
        if (isObject(parameter) && '$ref' in parameter)
          throw new UnsupportedSchemaError('a parameter refers to itself (circular $ref)');
        throw new UnsupportedSchemaError('a parameter has no name or "in"');
      }
      byKey.set(`${parameter.in}:${parameter.name}`, parameter);
    }
  }
  return [...byKey.values()];
}

/** OpenAPI 3 puts a parameter's schema in `schema` (or `content`); Swagger 2.0 on the parameter. */
function parameterSchema(parameter: JsonObject, version: OpenApiVersion): unknown {
  if (version === '2.0') {
    const {
      name: _name,
      in: _in,
      required: _required,
      description: _description,
      collectionFormat: _format,
      ...schema
    } = parameter;
    return schema;
  }
  if (parameter.schema !== undefined) return parameter.schema;
  const content = isObject(parameter.content) ? Object.values(parameter.content)[0] : undefined;
  return isObject(content) ? content.schema : {};
}

function requestBodyOf(context: OperationContext): { schema: unknown; required: boolean; description: unknown } | null {
  const { operation, version } = context;
  if (version === '2.0') {
    const parameters = parametersOf(context);
    if (parameters.some((parameter) => parameter.in === 'formData'))
      throw new UnsupportedSchemaError('form data (application/x-www-form-urlencoded, multipart) is not supported');
    const body = parameters.find((parameter) => parameter.in === 'body');
    return body ? { schema: body.schema, required: body.required === true, description: body.description } : null;
  }
  const requestBody = operation.requestBody;
  if (!isObject(requestBody)) return null;
  const content = isObject(requestBody.content) ? requestBody.content : {};
  const json = Object.entries(content).find(([type]) => isJsonMediaType(type));
  if (!json) {
    const types = Object.keys(content);
    if (types.length === 0) return null;
    throw new UnsupportedSchemaError(`request body media type ${types.join(', ')} is not supported (JSON only)`);
  }
  const media = json[1];
  return {
    schema: isObject(media) ? media.schema : {},
    required: requestBody.required === true,
    description: requestBody.description,
  };
}

function isJsonMediaType(type: string): boolean {
  const essence = type.split(';')[0]!.trim().toLowerCase();
  return essence === 'application/json' || essence.endsWith('+json') || essence === '*/*';
}

/** The operation's server (its own, its path's, the document's), made absolute and http(s). */
function serverUrlOf({ document, version, item, operation, baseUrl }: OperationContext): string {
  let url: string | undefined;
  if (version === '2.0') {
    const schemes = Array.isArray(document.schemes) ? document.schemes : [];
    const scheme = schemes.includes('https') ? 'https' : schemes.includes('http') ? 'http' : 'https';
    const basePath = typeof document.basePath === 'string' ? document.basePath : '';
    url = typeof document.host === 'string' ? `${scheme}://${document.host}${basePath}` : basePath || undefined;
  } else {
    const server = [operation.servers, item.servers, document.servers]
      .filter(Array.isArray)
      .map((servers) => servers[0])
      .find(isObject);
    url = server ? withVariables(server) : undefined;
  }
  let absolute: URL;
  try {
    absolute = new URL(url ?? '', baseUrl);
  } catch {
    throw new UnsupportedSchemaError('no absolute server URL: give base_url');
  }
  if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:')
    throw new UnsupportedSchemaError(`the server URL's scheme ${absolute.protocol} is not http or https`);
  return absolute.href;
}

function withVariables(server: JsonObject): string | undefined {
  if (typeof server.url !== 'string') return undefined;
  const variables = isObject(server.variables) ? server.variables : {};
  return server.url.replace(/\{([^{}]+)\}/g, (whole, name: string) => {
    const variable = variables[name];
    return isObject(variable) && typeof variable.default === 'string' ? variable.default : whole;
  });
}

function descriptionOf({ operation, method, path }: OperationContext): string {
  const parts = [operation.summary, operation.description].filter(
    (text): text is string => typeof text === 'string' && text.trim() !== '',
  );
  const text = parts.length > 0 ? parts.join('\n\n') : `${method.toUpperCase()} ${path}`;
  return text.length > DESCRIPTION_LENGTH ? `${text.slice(0, DESCRIPTION_LENGTH - 1)}…` : text;
}

function withDescription(schema: JsonObject | boolean, description: unknown): JsonObject | boolean {
  if (typeof schema === 'boolean' || typeof description !== 'string' || description.trim() === '') return schema;
  return { ...schema, description: description.slice(0, DESCRIPTION_LENGTH) };
}

/** A wire name as an input property: an identifier (other characters become `_`). */
function inputName(wireName: string): string {
  let name = wireName.replace(/\W+/g, '_').slice(0, 64);
  if (!/^[a-z_]/i.test(name)) name = `_${name}`.slice(0, 64);
  return name;
}

/** A valid function name (`^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$`), unique in this import. */
function uniqueName(source: string, taken: Set<string>): string {
  let base = trimEnd(trimStart(source.replace(/[^\w-]+/g, '_'), '_'), '_') || 'operation';
  if (!/^[a-z_]/i.test(base)) base = `_${base}`;
  base = base.slice(0, TOOL_NAME_LENGTH);
  let name = base;
  for (let suffix = 2; taken.has(name); suffix += 1)
    name = `${base.slice(0, TOOL_NAME_LENGTH - `_${suffix}`.length)}_${suffix}`;
  taken.add(name);
  return name;
}

/** `text` without the `char`s it ends with (a scan, where a regex would retry at each one). */
function trimEnd(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end -= 1;
  return text.slice(0, end);
}

function trimStart(text: string, char: string): string {
  let start = 0;
  while (start < text.length && text[start] === char) start += 1;
  return text.slice(start);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
