import type { JsonObject } from '../../domain/models.js';

/**
 * How an external tool's configuration and one call's input become an HTTP request. `url`,
 * `headers`, `query` and `body` hold templates: `{name}` is the input property `name`. A template
 * that is exactly `{name}` keeps the value's JSON type in a body; anywhere else values are text.
 * Input properties no template names go where the method puts data by default — the query
 * string for GET and DELETE, the JSON body otherwise — unless that place has its own mapping.
 * `body` may also be one template, `"{name}"`: that property is the whole JSON body.
 */
export interface ExternalRequestTemplate {
  method: string;
  url: string;
  headers?: Record<string, string> | undefined;
  query?: Record<string, string> | undefined;
  body?: Record<string, string> | string | undefined;
}

export interface ExternalRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A call whose input cannot fill the request; the model gets it as an error result. */
export class ExternalRequestError extends Error {
  override readonly name = 'ExternalRequestError';
}

const PLACEHOLDER = /\{([^{}]+)\}/g;
const WHOLE = /^\{([^{}]+)\}$/;

export function buildExternalRequest(template: ExternalRequestTemplate, input: JsonObject): ExternalRequest {
  const used = new Set<string>();
  const fill = (text: string, options: { required: boolean; encode: (value: string) => string }) =>
    text.replace(PLACEHOLDER, (_whole, name: string) => {
      const value = input[name];
      if (value === undefined || value === null) {
        if (options.required) throw new ExternalRequestError(`missing argument "${name}"`);
        return '';
      }
      used.add(name);
      return options.encode(textOf(value));
    });
  const url = new URL(fill(template.url, { required: true, encode: encodeURIComponent }));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(template.headers ?? {})) {
    if (allNamedAbsent(value, input)) continue;
    headers[name] = fill(value, { required: false, encode: (text) => text });
  }
  for (const [name, value] of Object.entries(template.query ?? {})) {
    if (allNamedAbsent(value, input)) continue;
    url.searchParams.append(name, fill(value, { required: false, encode: (text) => text }));
  }
  let body = bodyOf(template.body, input, used, fill);
  const method = template.method.toUpperCase();
  const rest = Object.entries(input).filter(([name, value]) => !used.has(name) && value !== undefined);
  const queryByDefault = method === 'GET' || method === 'DELETE' || method === 'HEAD';
  if (queryByDefault && template.query === undefined)
    for (const [name, value] of rest) url.searchParams.append(name, textOf(value));
  if (!queryByDefault && template.body === undefined && rest.length > 0) body = Object.fromEntries(rest);
  const request: ExternalRequest = { method, url: url.href, headers };
  if (body !== undefined) {
    request.body = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  return request;
}

function bodyOf(
  mapping: ExternalRequestTemplate['body'],
  input: JsonObject,
  used: Set<string>,
  fill: (text: string, options: { required: boolean; encode: (value: string) => string }) => string,
): unknown {
  if (mapping === undefined) return undefined;
  const whole = (template: string) => WHOLE.exec(template)?.[1];
  if (typeof mapping === 'string') {
    const name = whole(mapping);
    if (name === undefined) throw new ExternalRequestError('a body template must be "{name}"');
    used.add(name);
    return input[name];
  }
  const body: JsonObject = {};
  for (const [field, template] of Object.entries(mapping)) {
    const name = whole(template);
    if (name !== undefined) {
      if (input[name] === undefined) continue;
      used.add(name);
      body[field] = input[name];
    } else {
      body[field] = fill(template, { required: false, encode: (text) => text });
    }
  }
  return body;
}

/** A template that names inputs, none of which the call gave, is left out (an optional header). */
function allNamedAbsent(template: string, input: JsonObject): boolean {
  const names = [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!);
  return names.length > 0 && names.every((name) => input[name] === undefined || input[name] === null);
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}
