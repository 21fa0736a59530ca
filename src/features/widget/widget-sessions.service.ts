import { AppError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { WidgetKeyCredential } from '../../domain/widget.js';
import type { Store } from '../../storage/store.js';
import type { VisitorDirectory } from './visitor-directory.js';
import type { VisitorTokens } from './visitor-tokens.js';
import { parsePublishableKeyId, publishableKeyMatches } from './widget-secrets.js';

export interface WidgetSession {
  token: string;
  anon_user_id: string;
  /** The key's agent: the `{agent_id}` of the chat routes the visitor calls. */
  agent_id: string;
  expires_at: string;
}

const NOT_RENEWABLE =
  'The visitor token cannot renew this session: it was renewed already, is too old, or belongs to another widget key or origin. Start a new session.';

/**
 * Sessions of the chat widget: a page exchanges its publishable widget key for a visitor token.
 * Without `token` a new anonymous user is made (a new `anon_user_id`); with the page's current
 * token the same anonymous user gets a new token, and the generation it was minted at moves on,
 * so the token posted (and any older one) is refused from then on. Either way the page's
 * `Origin` must be one the key allows, and the token is bound to it.
 */
export class WidgetSessionsService {
  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      tokens: VisitorTokens;
      directory: VisitorDirectory;
      /** How long past its expiry a token may still renew its session. */
      renewalWindowSeconds: number;
    },
  ) {}

  async start(input: {
    widgetKey: string;
    token?: string | undefined;
    origin: string | undefined;
    ipAddress: string;
  }): Promise<WidgetSession> {
    const credential = await this.#requireKey(input.widgetKey);
    if (input.origin === undefined || !credential.allowed_origins.includes(input.origin)) {
      throw new AppError('widget_origin_not_allowed');
    }
    const origin = input.origin;
    if (input.token !== undefined) return this.#renew({ credential, token: input.token, origin });
    const { store, clock, newId } = this.dependencies;
    const now = clock.now().toISOString();
    const id = newId();
    await store.write((writers) =>
      writers.visitors.insertAnonymousUser({
        id,
        organization_id: credential.organization_id,
        widget_key_id: credential.id,
        agent_id: credential.agent_id,
        widget_user_id: null,
        ip_address: input.ipAddress,
        created_at: now,
        last_seen_at: now,
      }),
    );
    return this.#mint({ credential, anonymousUserId: id, generation: 0, origin });
  }

  async #renew(input: { credential: WidgetKeyCredential; token: string; origin: string }): Promise<WidgetSession> {
    const { store, clock, tokens, directory, renewalWindowSeconds } = this.dependencies;
    const { credential, origin } = input;
    const claims = await tokens.verify(input.token, { expiredGraceSeconds: renewalWindowSeconds }).catch((error) => {
      throw error instanceof AppError ? new AppError('invalid_widget_token', { message: NOT_RENEWABLE }) : error;
    });
    const sameSession =
      claims.widgetKeyId === credential.id &&
      claims.organizationId === credential.organization_id &&
      claims.origin === origin;
    if (!sameSession) throw new AppError('invalid_widget_token', { message: NOT_RENEWABLE });
    const key = { organizationId: claims.organizationId, id: claims.anonymousUserId };
    const renewed = await store.write((writers) =>
      writers.visitors.renew({
        ...key,
        widgetKeyId: credential.id,
        fromGeneration: claims.generation,
        now: clock.now().toISOString(),
      }),
    );
    if (!renewed) throw new AppError('invalid_widget_token', { message: NOT_RENEWABLE });
    directory.forget(key);
    return this.#mint({
      credential,
      anonymousUserId: claims.anonymousUserId,
      generation: claims.generation + 1,
      origin,
    });
  }

  async #mint(input: {
    credential: WidgetKeyCredential;
    anonymousUserId: string;
    generation: number;
    origin: string;
  }): Promise<WidgetSession> {
    const { token, expiresAt } = await this.dependencies.tokens.mint({
      anonymousUserId: input.anonymousUserId,
      organizationId: input.credential.organization_id,
      agentId: input.credential.agent_id,
      widgetKeyId: input.credential.id,
      generation: input.generation,
      origin: input.origin,
    });
    return {
      token,
      anon_user_id: input.anonymousUserId,
      agent_id: input.credential.agent_id,
      expires_at: expiresAt.toISOString(),
    };
  }

  /** The active key a publishable key names; one 401 for malformed, unknown and revoked keys. */
  async #requireKey(presented: string): Promise<WidgetKeyCredential> {
    const keyId = parsePublishableKeyId(presented);
    if (keyId === null) throw new AppError('invalid_widget_key');
    const credential = await this.dependencies.store.widgetKeys.findCredential(keyId);
    if (credential === null || !publishableKeyMatches(presented, credential.key_hash)) {
      throw new AppError('invalid_widget_key');
    }
    if (credential.revoked_at !== null) throw new AppError('invalid_widget_key');
    return credential;
  }
}
