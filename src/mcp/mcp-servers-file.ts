import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config-values.js';
import { UUID_PATTERN } from '../ids.js';

/** A stdio server's name: it is also its URL (`stdio:<name>`) and part of its id. */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';

const ServerEntry = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN }),
    organization: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    agents: Type.Array(Type.String({ pattern: UUID_PATTERN }), { minItems: 1, maxItems: 100, uniqueItems: true }),
    command: Type.String({ minLength: 1, maxLength: 4096 }),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 256 })),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: ENV_NAME_PATTERN }), Type.String({ maxLength: 32_768 }), {
        additionalProperties: false,
      }),
    ),
    cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600_000 })),
  },
  { additionalProperties: false },
);
const ServersFile = Type.Object(
  { servers: Type.Array(ServerEntry, { maxItems: 256 }) },
  { additionalProperties: false },
);
type ServerEntry = Static<typeof ServerEntry>;

const validate = new Ajv({ allErrors: false, strict: false }).compile<Static<typeof ServersFile>>(ServersFile);

/** The organisation a server goes to when its entry names none. */
export const DEFAULT_ORGANIZATION = 'default';

/**
 * One stdio MCP server the operator declared in MCP_SERVERS_FILE: the command is run as given,
 * without a shell, with `env` as its environment (see mcp-stdio-transport.ts); `cwd` is absolute
 * (a relative one is read from the file's folder).
 */
export interface StdioServerDeclaration {
  name: string;
  /** The organisation's id or name, as written (DEFAULT_ORGANIZATION when absent). */
  organization: string;
  /** Agent ids, lower case. */
  agents: string[];
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  /** How long starting the process and `initialize` may take; the pool's default when absent. */
  timeoutMs: number | undefined;
  /** Where the entry is, for error messages: `servers[1] ("github")`. */
  where: string;
}

/** Reads and checks MCP_SERVERS_FILE; none declared when `file` is null. A bad file is a ConfigError naming the entry and field. */
export function readMcpServersFile(file: string | null): StdioServerDeclaration[] {
  if (file === null) return [];
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw fileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseMcpServersFile(text, file);
}

/** Parses the file's text (JSON for `.json`, else YAML) and checks it. */
export function parseMcpServersFile(text: string, file: string): StdioServerDeclaration[] {
  let document: unknown;
  try {
    document = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw fileError(file, `is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}`);
  }
  if (!validate(document)) {
    throw fileError(file, describe(document, validate.errors?.[0]));
  }
  const seen = new Set<string>();
  return document.servers.map((entry, index) => {
    const where = `servers[${index}] ("${entry.name}")`;
    if (seen.has(entry.name)) throw fileError(file, `${where}: name: another server is already named "${entry.name}"`);
    seen.add(entry.name);
    return declaration(entry, where, path.dirname(path.resolve(file)));
  });
}

function declaration(entry: ServerEntry, where: string, folder: string): StdioServerDeclaration {
  return {
    name: entry.name,
    organization: entry.organization ?? DEFAULT_ORGANIZATION,
    agents: entry.agents.map((agent) => agent.toLowerCase()),
    command: entry.command,
    args: entry.args ?? [],
    env: entry.env ?? {},
    cwd: entry.cwd === undefined ? undefined : path.resolve(folder, entry.cwd),
    timeoutMs: entry.timeout_ms,
    where,
  };
}

/** The first problem as `servers[1] ("github"): command: must be string` (never a value of the file). */
function describe(document: unknown, error: ErrorObject | undefined): string {
  if (!error) return 'is not a valid servers file';
  const segments = error.instancePath.split('/').slice(1);
  let place = '';
  let field = '';
  if (segments[0] === 'servers' && segments[1] !== undefined) {
    const entry = (document as { servers: unknown[] }).servers[Number(segments[1])] as { name?: unknown } | undefined;
    const name = typeof entry?.name === 'string' && /^[\w.-]{1,64}$/.test(entry.name) ? ` ("${entry.name}")` : '';
    place = `servers[${segments[1]}]${name}`;
    field = segments
      .slice(2)
      .map((segment, index) =>
        index > 0 && /^\d+$/.test(segment) ? `[${segment}]` : `${index > 0 ? '.' : ''}${segment}`,
      )
      .join('');
  } else {
    field = segments.join('.');
  }
  const params = error.params as { missingProperty?: string; additionalProperty?: string; propertyName?: string };
  let problem = error.message ?? 'is not valid';
  if (error.keyword === 'required') {
    field = [field, params.missingProperty].filter(Boolean).join('.');
    problem = 'is required';
  } else if (error.keyword === 'additionalProperties' && field === 'env') {
    problem = 'is not a valid environment variable name';
  } else if (error.keyword === 'additionalProperties') {
    field = [field, params.additionalProperty].filter(Boolean).join('.');
    problem = 'is not a known field';
  } else if (error.keyword === 'pattern') {
    problem = field.startsWith('agents')
      ? 'must be an agent id (UUID)'
      : 'must be letters, digits, "_", "." or "-" (at most 64)';
  }
  const subject = [place, field].filter(Boolean).join(': ');
  return subject === '' ? problem : `${subject}: ${problem}`;
}

function fileError(file: string, problem: string): ConfigError {
  return new ConfigError('MCP_SERVERS_FILE', `(${file}) ${problem}`);
}
