#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import { SCOPES, type Scope } from '../domain/models.js';
import { KeysService } from '../features/keys/keys.service.js';
import { WidgetKeysService } from '../features/widget/widget-keys.service.js';
import { SecretBox } from '../security/secret-box.js';
import { ServerSecret } from '../security/server-secret.js';
import { newId, systemClock } from '../ids.js';
import { openStore, type Store } from '../storage/store.js';
import { serve } from './serve.js';
import { runWorker } from './worker.js';

const USAGE = `Usage: parley <command>

  serve                         start the server (PORT, HOST, DATABASE_URL, LOG_LEVEL)
  worker                        run only background jobs (WORKER_CONCURRENCY, same settings as serve)
  migrate                       apply database migrations and exit
  keys create --org NAME [--user NAME] [--name TEXT] [--scopes read,write,admin] [--expires ISO-8601]
                                create an API key; prints only the key
  keys list                     list every key (never their secrets)
  keys revoke KEY_ID            revoke a key now
  keys create-widget --agent AGENT_ID --name TEXT --origin ORIGIN [--origin ORIGIN…]
                                create a publishable widget key for an agent; prints the
                                publishable key and the identity secret, once
  keys revoke-widget WIDGET_KEY_ID
                                revoke a widget key now
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case 'serve':
      return serve(config);
    case 'worker':
      return runWorker(config);
    case 'migrate':
      return withStore(config, async () => {
        process.stdout.write('migrations applied\n');
      });
    case 'keys':
      if (rest[0] === 'create-widget' || rest[0] === 'revoke-widget') {
        return withStore(config, (store) => widgetKeysCommand(store, config, rest));
      }
      return withStore(config, (store) => keysCommand(store, rest));
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function withStore(config: ReturnType<typeof loadConfig>, work: (store: Store) => Promise<void>): Promise<void> {
  const store = await openStore(config.database, { postgresPoolSize: 2 });
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

async function keysCommand(store: Store, argv: string[]): Promise<void> {
  const [subcommand, ...rest] = argv;
  const keys = new KeysService({ store, clock: systemClock, newId, cacheTtlMs: 0 });
  if (subcommand === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: {
        org: { type: 'string' },
        user: { type: 'string', default: 'admin' },
        name: { type: 'string' },
        scopes: { type: 'string', default: 'read,write' },
        expires: { type: 'string' },
      },
    });
    if (!values.org) throw new UsageError('keys create needs --org NAME');
    const created = await keys.create({
      organization: { name: values.org },
      userName: values.user,
      name: values.name,
      scopes: parseScopes(values.scopes),
      expiresAt: values.expires === undefined ? null : parseExpiry(values.expires),
    });
    process.stdout.write(`${created.key}\n`);
    return;
  }
  if (subcommand === 'list') {
    const rows = await keys.listAll();
    const lines = rows.map((key) =>
      [
        key.id,
        key.organization_name,
        key.name,
        `${key.prefix}…${key.last_four}`,
        key.scopes.join(','),
        key.created_at,
        key.expires_at ?? '-',
        key.revoked_at ? `revoked ${key.revoked_at}` : 'active',
      ].join('\t'),
    );
    process.stdout.write(['id\torganization\tname\tkey\tscopes\tcreated\texpires\tstate', ...lines].join('\n') + '\n');
    return;
  }
  if (subcommand === 'revoke') {
    const [id] = rest;
    if (!id) throw new UsageError('keys revoke needs KEY_ID');
    const revoked = await keys.revoke({ organizationId: null, id: id.toLowerCase() });
    process.stdout.write(`revoked ${revoked.id}\n`);
    return;
  }
  throw new UsageError(`unknown keys command "${subcommand ?? ''}"`);
}

/**
 * Widget keys for the operator: the agent's organisation is found from the agent. The identity
 * secret is sealed with the server's root secret (PARLEY_SECRET_KEY, or the key file beside the
 * database), the same one `serve` uses.
 */
async function widgetKeysCommand(store: Store, config: ReturnType<typeof loadConfig>, argv: string[]): Promise<void> {
  const [subcommand, ...rest] = argv;
  const box = new SecretBox(ServerSecret.fromConfig(config));
  const widgetKeys = new WidgetKeysService({ store, clock: systemClock, newId, box });
  if (subcommand === 'revoke-widget') {
    const [id] = rest;
    if (!id) throw new UsageError('keys revoke-widget needs WIDGET_KEY_ID');
    const revoked = await widgetKeys.revoke({ organizationId: null, id: id.toLowerCase() });
    process.stdout.write(`revoked ${revoked.id}\n`);
    return;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      agent: { type: 'string' },
      name: { type: 'string' },
      origin: { type: 'string', multiple: true },
    },
  });
  if (!values.agent) throw new UsageError('keys create-widget needs --agent AGENT_ID');
  if (!values.name) throw new UsageError('keys create-widget needs --name TEXT');
  if (!values.origin || values.origin.length === 0) throw new UsageError('keys create-widget needs --origin ORIGIN');
  const agentId = values.agent.toLowerCase();
  const organizationId = await store.agents.organizationOf(agentId);
  if (organizationId === null) throw new UsageError(`no agent ${values.agent}`);
  const created = await widgetKeys
    .create({ organizationId, agentId, name: values.name, allowedOrigins: values.origin, createdByUserId: null })
    .catch((error: unknown) => {
      const issue = error instanceof AppError ? error.issues?.[0] : undefined;
      throw issue ? new UsageError(`--origin: ${issue.msg}`) : error;
    });
  process.stdout.write(
    [
      `widget key ${created.id} for agent ${created.agent_id} (${created.allowed_origins.join(', ')})`,
      `publishable key: ${created.publishable_key}`,
      `identity secret: ${created.identity_secret}`,
      'The identity secret is shown only now: keep it on your server, never in a page.',
    ].join('\n') + '\n',
  );
}

function parseScopes(text: string): Scope[] {
  const scopes = text
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new UsageError(`--scopes takes a comma-separated list of ${SCOPES.join(', ')}`);
  }
  return scopes as Scope[];
}

function parseExpiry(text: string): string {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError('--expires needs an ISO-8601 date-time');
  return date.toISOString();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`parley: ${error.message}\n\n${error instanceof UsageError ? USAGE : ''}`);
    process.exit(2);
  }
  process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
