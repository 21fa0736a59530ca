import type { JsonObject } from '../../domain/models.js';
import { validationError } from '../../errors.js';
import { MASK, maskSecret, SecretBox } from '../../security/secret-box.js';

/**
 * Where an MCP server's `auth_config` holds secrets: these fields at its top level (a client
 * secret, a static bearer token, OAuth tokens given by hand…) and every value of `headers`
 * (sent with each MCP request). They are sealed at rest, masked in every response and opened
 * only for the request that needs them.
 */
const SECRET_FIELDS = ['client_secret', 'token', 'access_token', 'refresh_token', 'api_key', 'password', 'value'];

type SecretPath = readonly string[];

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function secretPaths(config: JsonObject | null): SecretPath[] {
  if (config === null) return [];
  const paths: SecretPath[] = SECRET_FIELDS.filter((field) => typeof config[field] === 'string').map((field) => [
    field,
  ]);
  const headers = config.headers;
  if (isObject(headers)) {
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') paths.push(['headers', name]);
  }
  return paths;
}

function read(config: JsonObject | null, path: SecretPath): unknown {
  let value: unknown = config;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  return value;
}

function replaceAt(config: JsonObject, replace: (value: string, path: SecretPath) => string): JsonObject {
  const copy: JsonObject = { ...config };
  for (const path of secretPaths(config)) {
    if (path.length === 1) {
      copy[path[0]!] = replace(String(copy[path[0]!]), path);
      continue;
    }
    const container = { ...(copy[path[0]!] as JsonObject) };
    container[path[1]!] = replace(String(container[path[1]!]), path);
    copy[path[0]!] = container;
  }
  return copy;
}

/**
 * `auth_config` as stored: every secret sealed. A masked value sent back (as responses show it)
 * keeps the stored secret at the same place if that secret masks to exactly this; any other
 * masked value is refused.
 */
export function sealAuthConfig(
  box: SecretBox,
  config: JsonObject | null,
  stored: JsonObject | null,
): JsonObject | null {
  if (config === null) return null;
  return replaceAt(config, (value, path) => {
    if (!value.startsWith(MASK)) return box.seal(value);
    const kept = read(stored, path);
    if (SecretBox.isSealed(kept) && maskSecret(box.open(kept)) === value) return kept;
    throw validationError(
      ['body', 'auth_config', ...path],
      'A masked value keeps the stored secret only where that secret is; send the secret itself',
    );
  });
}

/** `auth_config` as responses show it: every secret masked. */
export function maskAuthConfig(box: SecretBox, config: JsonObject | null): JsonObject | null {
  if (config === null) return null;
  return replaceAt(config, (value) => (SecretBox.isSealed(value) ? maskSecret(box.open(value)) : MASK));
}

/** `auth_config` with its secrets in plain text, for the requests to the server. */
export function openAuthConfig(box: SecretBox, config: JsonObject | null): JsonObject | null {
  if (config === null) return null;
  return replaceAt(config, (value) => box.open(value));
}
