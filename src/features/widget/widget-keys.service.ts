import { AppError, validationError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { WidgetKey } from '../../domain/widget.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import { generateIdentitySecret, generatePublishableKey, hashPublishableKey } from './widget-secrets.js';

export interface CreatedWidgetKey extends WidgetKey {
  /** The key the host page embeds; shown only in this response (only its hash is stored). */
  publishable_key: string | null;
  /** The host server's HMAC secret for identity upgrades; shown only in this response. */
  identity_secret: string | null;
}

/** Widget keys: made, listed and revoked by an organisation's admins (or the operator's CLI). */
export class WidgetKeysService {
  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      box: SecretBox;
      /** Called once a key is created or revoked through this process (cached origins and visitors are dropped). */
      onChanged?: (() => void) | undefined;
    },
  ) {}

  async create(input: {
    organizationId: string;
    agentId: string;
    name: string;
    allowedOrigins: readonly string[];
    createdByUserId: string | null;
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<CreatedWidgetKey> {
    const { store, clock, newId, box } = this.dependencies;
    const origins = checkedOrigins(input.allowedOrigins);
    const { keyId, key } = generatePublishableKey();
    const identitySecret = generateIdentitySecret();
    const now = clock.now().toISOString();
    const created = await store.write(
      async (writers) => {
        const widgetKey = await writers.widgetKeys.insert({
          id: newId(),
          organization_id: input.organizationId,
          agent_id: input.agentId,
          name: input.name,
          key_id: keyId,
          key_hash: hashPublishableKey(key),
          identity_secret: box.seal(identitySecret),
          allowed_origins: origins,
          created_by_user_id: input.createdByUserId,
          created_at: now,
        });
        if (widgetKey === null) throw new AppError('agent_not_found');
        return { ...widgetKey, publishable_key: key, identity_secret: identitySecret };
      },
      // A replay cannot show the secrets again: they are not stored in the clear anywhere.
      {
        idempotency: input.idempotency,
        replayBody: (result) => ({ ...result, publishable_key: null, identity_secret: null }),
      },
    );
    this.dependencies.onChanged?.();
    return created;
  }

  list(input: { organizationId: string; agentId?: string | undefined }): Promise<WidgetKey[]> {
    return this.dependencies.store.widgetKeys.list(input);
  }

  async require(input: { organizationId: string; id: string }): Promise<WidgetKey> {
    const widgetKey = await this.dependencies.store.widgetKeys.get(input);
    if (!widgetKey) throw new AppError('widget_key_not_found');
    return widgetKey;
  }

  /** Revokes a key now: it mints no session, and its visitors' tokens are refused. `organizationId` null is the CLI. */
  async revoke(input: { organizationId: string | null; id: string }): Promise<WidgetKey> {
    const now = this.dependencies.clock.now().toISOString();
    const widgetKey = await this.dependencies.store.write((writers) => writers.widgetKeys.revoke({ ...input, now }));
    if (widgetKey === null) throw new AppError('widget_key_not_found');
    this.dependencies.onChanged?.();
    return widgetKey;
  }
}

/** Each origin exactly as a browser sends it (`https://shop.example`, `http://localhost:5173`), duplicates dropped. */
function checkedOrigins(origins: readonly string[]): string[] {
  origins.forEach((origin, index) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      throw validationError(
        ['body', 'allowed_origins', index],
        'Each allowed origin must be a scheme, host and optional port exactly, like https://shop.example',
      );
    }
  });
  return [...new Set(origins)];
}
