import type { ToolType } from '../../domain/agent-tools.js';
import type { JsonObject } from '../../domain/models.js';
import { validationError } from '../../errors.js';
import { MASK, maskSecret, SecretBox } from '../../security/secret-box.js';

/** Where an external tool's configuration holds secrets: the credential of its auth, and every header value. */
const AUTH_SECRET_FIELDS = ['value', 'token', 'password', 'client_secret'] as const;

type SecretPath = readonly [string, string];

function secretPaths(toolType: ToolType, configuration: JsonObject | null): SecretPath[] {
  if (toolType !== 'external_tool' || configuration === null) return [];
  const paths: SecretPath[] = [];
  const auth = configuration.auth;
  if (isObject(auth)) {
    for (const field of AUTH_SECRET_FIELDS) if (typeof auth[field] === 'string') paths.push(['auth', field]);
  }
  const headers = configuration.headers;
  if (isObject(headers)) for (const name of Object.keys(headers)) paths.push(['headers', name]);
  return paths;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function read(configuration: JsonObject | null, [parent, field]: SecretPath): unknown {
  const container = configuration?.[parent];
  return isObject(container) ? container[field] : undefined;
}

/** A copy of `configuration` with the value at each path replaced (the parents are copied, not shared). */
function replaceAt(
  configuration: JsonObject,
  paths: readonly SecretPath[],
  replace: (value: string, path: SecretPath) => string,
): JsonObject {
  const copy: JsonObject = { ...configuration };
  for (const path of paths) {
    const [parent, field] = path;
    const container = { ...(copy[parent] as JsonObject) };
    container[field] = replace(String(container[field]), path);
    copy[parent] = container;
  }
  return copy;
}

/**
 * The configuration as it is stored: every secret sealed. A value sent back masked (`••••1234`,
 * as responses show it) keeps the stored secret at the same place, if that secret masks to
 * exactly this; any other masked value is refused, since it cannot be a real secret.
 */
export function sealConfiguration(input: {
  box: SecretBox;
  toolType: ToolType;
  configuration: JsonObject | null;
  stored?: { toolType: ToolType; configuration: JsonObject | null } | undefined;
}): JsonObject | null {
  const { box, configuration } = input;
  if (configuration === null) return null;
  const storedPaths = input.stored ? secretPaths(input.stored.toolType, input.stored.configuration) : [];
  return replaceAt(configuration, secretPaths(input.toolType, configuration), (value, path) => {
    if (!value.startsWith(MASK)) return box.seal(value);
    const stored = storedPaths.some((candidate) => candidate.join('.') === path.join('.'))
      ? read(input.stored!.configuration, path)
      : undefined;
    if (SecretBox.isSealed(stored) && maskSecret(box.open(stored)) === value) return stored;
    throw validationError(
      ['body', 'configuration', ...path],
      'A masked value keeps the stored secret only where that secret is; send the secret itself',
    );
  });
}

/** The configuration as responses show it: every secret masked, never sealed or plain. */
export function maskConfiguration(
  box: SecretBox,
  toolType: ToolType,
  configuration: JsonObject | null,
): JsonObject | null {
  if (configuration === null) return null;
  return replaceAt(configuration, secretPaths(toolType, configuration), (value) =>
    SecretBox.isSealed(value) ? maskSecret(box.open(value)) : MASK,
  );
}

/** The configuration with its secrets in plain text, for the moment a tool call needs them. */
export function openConfiguration(
  box: SecretBox,
  toolType: ToolType,
  configuration: JsonObject | null,
): JsonObject | null {
  if (configuration === null) return null;
  return replaceAt(configuration, secretPaths(toolType, configuration), (value) => box.open(value));
}
