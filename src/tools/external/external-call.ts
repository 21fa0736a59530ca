import crypto from 'node:crypto';
import type { JsonObject } from '../../domain/models.js';
import { buildExternalRequest, type ExternalRequestTemplate } from './external-request.js';

/** The guarded outbound client, as far as a tool call needs it (src/outbound/outbound-client.ts). */
export interface OutboundRequester {
  request(input: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
    maxResponseBytes?: number;
    signal?: AbortSignal;
    credentialHeaders?: readonly string[];
  }): Promise<{ status: number; headers: Readonly<Record<string, string>>; body: Buffer; url: string }>;
}

export type ExternalToolAuth =
  | { type: 'none' }
  | { type: 'api_key'; in: 'header' | 'query'; name: string; value: string }
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | {
      type: 'oauth2_client_credentials';
      token_url: string;
      client_id: string;
      client_secret: string;
      scopes?: string[];
    };

/** What the model gets from a successful call: the status and the body (JSON, or text). */
export interface ExternalCallResult {
  status: number;
  body: unknown;
}

/** Of an upstream's error answer, this much of its body reaches the model. */
const ERROR_BODY_CHARACTERS = 1_000;

/**
 * One call of an external tool: the request its templates make of the input, with its
 * credentials, through the guarded client. A 4xx/5xx answer, a body that says it is JSON and is
 * not, and every refusal of the client are thrown: the runner makes them error results. Credential
 * values never appear in what is thrown.
 */
export async function callExternalTool(input: {
  requester: OutboundRequester;
  template: ExternalRequestTemplate;
  auth: ExternalToolAuth | undefined;
  input: JsonObject;
  signal: AbortSignal;
  timeoutMs?: number | undefined;
  maxResponseBytes: number;
  tokens: ClientCredentialsTokens;
}): Promise<ExternalCallResult> {
  const request = buildExternalRequest(input.template, input.input);
  const credentialHeaders = await applyAuth(request, input);
  const response = await input.requester.request({
    ...request,
    signal: input.signal,
    maxResponseBytes: input.maxResponseBytes,
    credentialHeaders,
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
  });
  const contentType = response.headers['content-type'] ?? '';
  const text = response.body.toString('utf8');
  if (response.status >= 400) {
    const excerpt = text.length > ERROR_BODY_CHARACTERS ? `${text.slice(0, ERROR_BODY_CHARACTERS)}…` : text;
    throw new Error(`HTTP ${response.status}${excerpt === '' ? '' : `: ${excerpt}`}`);
  }
  if (text === '') return { status: response.status, body: null };
  if (!isJson(contentType)) return { status: response.status, body: text };
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new Error(`the response says ${contentType.split(';')[0]} but is not valid JSON`);
  }
}

/** Adds the tool's credentials to the request; returns the headers that carry them. */
async function applyAuth(
  request: { url: string; headers: Record<string, string> },
  input: {
    auth: ExternalToolAuth | undefined;
    requester: OutboundRequester;
    signal: AbortSignal;
    tokens: ClientCredentialsTokens;
  },
): Promise<string[]> {
  const { auth } = input;
  switch (auth?.type) {
    case undefined:
    case 'none':
      return [];
    case 'api_key':
      if (auth.in === 'query') {
        const url = new URL(request.url);
        url.searchParams.set(auth.name, auth.value);
        request.url = url.href;
        return [];
      }
      request.headers[auth.name] = auth.value;
      return [auth.name];
    case 'bearer':
      request.headers.authorization = `Bearer ${auth.token}`;
      return ['authorization'];
    case 'basic':
      request.headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      return ['authorization'];
    case 'oauth2_client_credentials':
      request.headers.authorization = `Bearer ${await input.tokens.token(auth, input.requester, input.signal)}`;
      return ['authorization'];
  }
}

function isJson(contentType: string): boolean {
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  return essence === 'application/json' || essence.endsWith('+json');
}

type ClientCredentials = Extract<ExternalToolAuth, { type: 'oauth2_client_credentials' }>;

/** A token is used until this long before it expires, so it does not lapse in flight. */
const EXPIRY_MARGIN_MS = 30_000;
/** Without `expires_in`, a token is kept this long. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
const MAX_CACHED_TOKENS = 1_000;

/**
 * OAuth 2.0 client-credentials tokens (RFC 6749 §4.4), fetched through the guarded client and
 * kept until shortly before they expire. Keyed by a hash of the whole grant (endpoint, client,
 * secret, scopes), so two tools share a token only when they hold the same credentials; one
 * request at a time per grant, however many calls need it at once.
 */
export class ClientCredentialsTokens {
  readonly #tokens = new Map<string, { value: string; expiresAt: number }>();
  readonly #pending = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  async token(grant: ClientCredentials, requester: OutboundRequester, signal: AbortSignal): Promise<string> {
    const key = crypto.createHash('sha256').update(JSON.stringify(grant)).digest('hex');
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > this.now()) return cached.value;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#requestToken(key, grant, requester, signal).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #requestToken(
    key: string,
    grant: ClientCredentials,
    requester: OutboundRequester,
    signal: AbortSignal,
  ): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (grant.scopes && grant.scopes.length > 0) form.set('scope', grant.scopes.join(' '));
    const basic = Buffer.from(`${encodeURIComponent(grant.client_id)}:${encodeURIComponent(grant.client_secret)}`);
    const response = await requester.request({
      method: 'POST',
      url: grant.token_url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${basic.toString('base64')}`,
      },
      body: form.toString(),
      signal,
      maxResponseBytes: 64 * 1024,
      credentialHeaders: ['authorization'],
    });
    if (response.status !== 200) throw new Error(`the OAuth token endpoint answered HTTP ${response.status}`);
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(response.body.toString('utf8')) as typeof parsed;
    } catch {
      throw new Error('the OAuth token endpoint did not answer JSON');
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '')
      throw new Error('the OAuth token endpoint answered no access_token');
    const lifetime =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in * 1000 : DEFAULT_LIFETIME_MS;
    if (this.#tokens.size >= MAX_CACHED_TOKENS) this.#tokens.delete(this.#tokens.keys().next().value!);
    this.#tokens.set(key, { value: parsed.access_token, expiresAt: this.now() + lifetime });
    return parsed.access_token;
  }
}
