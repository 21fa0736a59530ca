import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport, FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { FastifyBaseLogger } from 'fastify';
import { PARLEY_VERSION } from '../version.js';
import { answerElicitation } from './mcp-elicitation.js';
import { McpAuthorizationRequired, type McpAuthorization, type McpServerRef } from './mcp-authorization.js';

/** How long a connect (transport, initialize) may take. */
const CONNECT_TIMEOUT_MS = 30_000;

/** What the last connect attempt saw of authentication: a 401 and its challenge. */
export interface ConnectChallenge {
  unauthorized: boolean;
  wwwAuthenticate: string | null;
}

/** A connect that failed, with what the server said about authentication while it was tried. */
export class McpConnectError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly challenge: ConnectChallenge,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export type McpTransportKind = 'streamable-http' | 'sse' | 'stdio';

interface Connection {
  readonly client: Client;
  readonly fingerprint: string;
  readonly transport: McpTransportKind;
  /** The last answer's challenge when it was a 401 (the fetch below keeps it current). */
  readonly challenge: ConnectChallenge;
}

/**
 * Makes the transport of a server whose URL is not http(s) (the operator's stdio servers), with
 * how long its connect may take (CONNECT_TIMEOUT_MS when absent); null when the URL is none of
 * them. It throws McpTransportUnavailable when the URL is one of them that cannot be made.
 */
export type ExtraTransports = (ref: McpServerRef) => { transport: Transport; connectTimeoutMs?: number } | null;

/** An extra transport that cannot be made; `reason` is a constant text fit for `status_reason`. */
export class McpTransportUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * One SDK `Client` per MCP server per process (docs/adr/0017-mcp-servers.md). Connections are
 * made on first use — concurrent first uses share one connect — and kept until the server is
 * updated or deleted (`close`), the app closes (`closeAll`), the transport closes, or a call
 * fails below MCP (a broken connection is dropped and made again on the next use). A server
 * whose URL or auth_config changed gets a new connection. Streamable HTTP first; a 4xx other
 * than 401/403 on initialize falls back to the legacy HTTP+SSE transport, as the MCP
 * specification's backwards-compatibility section says. Every request goes through the guarded
 * fetch wrapped by the authorization layer; the SDK gets no auth provider.
 */
export class McpConnectionPool {
  readonly #connections = new Map<string, Promise<Connection>>();

  constructor(
    private readonly dependencies: {
      fetch: FetchLike;
      authorization: McpAuthorization;
      /** `notifications/tools/list_changed` arrived on a pooled connection. */
      onToolsChanged: (ref: McpServerRef) => void;
      /** A request failed for want of sign-in (a 401 left unanswered, McpAuthorizationRequired). */
      onSignInNeeded?: ((ref: McpServerRef, error: McpConnectError) => Promise<void>) | undefined;
      extraTransports?: ExtraTransports | undefined;
      log: FastifyBaseLogger;
    },
  ) {}

  /**
   * Runs `work` with the server's client. A failure below MCP (transport, HTTP, network) drops
   * the connection; when it says the session is gone (HTTP 404 on a session, a closed
   * connection) and `retry` allows, `work` runs once more on a new connection.
   */
  async use<T>(
    ref: McpServerRef,
    work: (client: Client) => Promise<T>,
    options: { retry?: boolean; signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const connection = await this.#connection(ref);
    try {
      return await work(connection.client);
    } catch (caught) {
      const error = await this.#signInNeeded(ref, connection, caught);
      // The caller's abort or timeout says nothing about the connection.
      if (options.signal?.aborted || !isBelowMcp(error)) throw error;
      await this.#drop(ref.serverId, connection);
      // Wanting sign-in is not a broken connection: another one would be refused the same way.
      if (error instanceof McpConnectError || (!options.retry && !isSessionGone(error))) throw error;
      const fresh = await this.#connection(ref);
      try {
        return await work(fresh.client);
      } catch (again) {
        throw await this.#signInNeeded(ref, fresh, again);
      }
    }
  }

  /** Connects now (or reuses the live connection); a failure is a McpConnectError. */
  /**
   * A failure that came with a 401 (or from the authorization layer) carries the server's
   * challenge, as a connect failure does, and is reported to `onSignInNeeded`.
   */
  async #signInNeeded(ref: McpServerRef, connection: Connection, error: unknown): Promise<unknown> {
    const { challenge } = connection;
    const required = [error, (error as { cause?: unknown } | null)?.cause].some(
      (cause) => cause instanceof McpAuthorizationRequired,
    );
    if (!challenge.unauthorized && !required) return error;
    const failure = new McpConnectError(error, { ...challenge });
    await this.dependencies
      .onSignInNeeded?.(ref, failure)
      .catch((reportError: unknown) =>
        this.dependencies.log.warn({ err: reportError, mcpServerId: ref.serverId }, 'MCP sign-in state not stored'),
      );
    // A 401's challenge (its scope, its metadata URL) must reach whoever starts the sign-in.
    return challenge.unauthorized ? failure : error;
  }

  async connect(ref: McpServerRef): Promise<McpTransportKind> {
    return (await this.#connection(ref)).transport;
  }

  /** Closes the server's connection, if any (on update, delete, or a new sign-in). */
  async close(serverId: string): Promise<void> {
    const pending = this.#connections.get(serverId);
    this.#connections.delete(serverId);
    const connection = await pending?.catch(() => undefined);
    await connection?.client.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#connections.keys()].map((serverId) => this.close(serverId)));
  }

  /** How many connections are open or opening (for tests and metrics). */
  get size(): number {
    return this.#connections.size;
  }

  #connection(ref: McpServerRef): Promise<Connection> {
    const fingerprint = fingerprintOf(ref);
    const existing = this.#connections.get(ref.serverId);
    if (existing) {
      return existing.then(async (connection) => {
        if (connection.fingerprint === fingerprint) return connection;
        await this.#drop(ref.serverId, connection);
        return this.#connection(ref);
      });
    }
    const pending = this.#open(ref, fingerprint);
    this.#connections.set(ref.serverId, pending);
    pending.catch(() => {
      if (this.#connections.get(ref.serverId) === pending) this.#connections.delete(ref.serverId);
    });
    return pending;
  }

  async #drop(serverId: string, connection: Connection): Promise<void> {
    const current = this.#connections.get(serverId);
    if (current && (await current.catch(() => undefined)) === connection) this.#connections.delete(serverId);
    await connection.client.close().catch(() => undefined);
  }

  async #open(ref: McpServerRef, fingerprint: string): Promise<Connection> {
    const challenge: ConnectChallenge = { unauthorized: false, wwwAuthenticate: null };
    const extra = this.dependencies.extraTransports?.(ref) ?? null;
    if (extra) return this.#start(ref, fingerprint, extra.transport, 'stdio', challenge, extra.connectTimeoutMs);
    const fetch = this.#fetchFor(ref, challenge);
    const url = new URL(ref.url);
    try {
      return await this.#start(
        ref,
        fingerprint,
        new StreamableHTTPClientTransport(url, { fetch }),
        'streamable-http',
        challenge,
      );
    } catch (error) {
      const cause = error instanceof McpConnectError ? error.cause : error;
      if (!(cause instanceof StreamableHTTPError) || !fallsBackToSse(cause.code)) throw error;
      this.dependencies.log.debug({ mcpServerId: ref.serverId }, 'MCP server refused Streamable HTTP; trying HTTP+SSE');
      const sse = new SSEClientTransport(url, { fetch, eventSourceInit: { fetch } });
      return this.#start(ref, fingerprint, sse, 'sse', challenge);
    }
  }

  async #start(
    ref: McpServerRef,
    fingerprint: string,
    transport: Transport,
    kind: McpTransportKind,
    challenge: ConnectChallenge,
    connectTimeoutMs = CONNECT_TIMEOUT_MS,
  ): Promise<Connection> {
    const client = new Client(
      { name: 'parley', version: PARLEY_VERSION },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, (request) => answerElicitation(request.params));
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.dependencies.onToolsChanged(ref);
      return Promise.resolve();
    });
    try {
      await client.connect(transport, { timeout: connectTimeoutMs });
    } catch (error) {
      await client.close().catch(() => undefined);
      throw new McpConnectError(error, challenge);
    }
    const connection: Connection = { client, fingerprint, transport: kind, challenge };
    client.onclose = () => {
      void this.#forget(ref.serverId, connection);
    };
    return connection;
  }

  async #forget(serverId: string, connection: Connection): Promise<void> {
    const current = this.#connections.get(serverId);
    if (current && (await current.catch(() => undefined)) === connection) this.#connections.delete(serverId);
  }

  /** The guarded fetch with the server's static headers, wrapped by the authorization layer, watched for 401s. */
  #fetchFor(ref: McpServerRef, challenge: ConnectChallenge): FetchLike {
    const headers = staticHeaders(ref.authConfig);
    const base: FetchLike =
      Object.keys(headers).length === 0
        ? this.dependencies.fetch
        : (input, init) => {
            const merged = new Headers(init?.headers ?? undefined);
            for (const [name, value] of Object.entries(headers)) if (!merged.has(name)) merged.set(name, value);
            return this.dependencies.fetch(input, { ...init, headers: merged });
          };
    const authorized = this.dependencies.authorization.fetchFor(ref, base);
    return async (input, init) => {
      const response = await authorized(input, init);
      if (response.status === 401) {
        challenge.unauthorized = true;
        challenge.wwwAuthenticate = response.headers.get('www-authenticate');
      } else if (response.ok) {
        challenge.unauthorized = false;
        challenge.wwwAuthenticate = null;
      }
      return response;
    };
  }
}

/**
 * The headers `auth_config` asks for on every request: its `headers` map, and a static bearer
 * `token` (`{"type": "bearer", "token": "…"}`).
 */
export function staticHeaders(authConfig: Record<string, unknown> | null): Record<string, string> {
  const headers: Record<string, string> = {};
  const map = authConfig?.headers;
  if (typeof map === 'object' && map !== null && !Array.isArray(map)) {
    for (const [name, value] of Object.entries(map)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  if (authConfig?.type === 'bearer' && typeof authConfig.token === 'string') {
    headers.authorization = `Bearer ${authConfig.token}`;
  }
  return headers;
}

function fingerprintOf(ref: McpServerRef): string {
  return JSON.stringify([ref.url, ref.authConfig]);
}

function fallsBackToSse(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 401 && status !== 403;
}

/**
 * Errors of the connection rather than the server's MCP answer: an McpError is an answer
 * (JSON-RPC error, or the SDK's request timeout), except ConnectionClosed.
 */
function isBelowMcp(error: unknown): boolean {
  if (error instanceof McpError) return error.code === (ErrorCode.ConnectionClosed as number);
  return true;
}

/** The server no longer knows the session (restart): per the spec the client starts a new one. */
function isSessionGone(error: unknown): boolean {
  if (error instanceof StreamableHTTPError) return error.code === 404;
  return error instanceof McpError && error.code === (ErrorCode.ConnectionClosed as number);
}
